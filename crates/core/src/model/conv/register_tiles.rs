//! The tap products of [`super::SameConv`] computed by register-tile kernels: what every kernel
//! shares (the weight packing, the bounds of its reads, the loop over a block) and the kernel
//! body itself, written once as a macro over five vector operations.
//!
//! Why by hand rather than `gemm`: a tap's operand is a run of consecutive floats in the padded
//! input, so a kernel can read it where it is, with no packing of the input per tap, and keep a
//! tile of output channels by columns in registers across every input channel and tap of a pass.
//! In the browser `gemm`'s simd128 kernel took two thirds of a cutout (V8 profile). Natively,
//! on ISNet's layer shapes with 2 threads (`conv_layers` example, three runs), `gemm` runs at
//! 105-119 GFLOP/s, the AVX2 kernel at 113-125 and the AVX-512 one at 129-158.
//! Each instruction set has a file with its vector operations and tile size: `simd128_taps`
//! (WebAssembly), `x86_taps` (AVX-512 and AVX2 with FMA). Elsewhere `gemm` does the work.

use core::ops::Range;

use super::shifted_gemm::WeightValue;

/// One register-tile kernel: `rows` output channels by `columns` output columns per call.
#[derive(Clone, Copy)]
pub struct TileKernel {
    /// For benchmarks and test messages.
    pub name: &'static str,
    pub rows: usize,
    pub columns: usize,
    /// `product(ops, out, stride, tile, channels, column, fresh)`: adds the products of input
    /// channels `channels` to the tile of rows `tile * rows..` and columns `column..` stored at
    /// `out` with row stride `stride` (which starts from zero when `fresh`).
    pub product: unsafe fn(&Operands, *mut f32, usize, usize, Range<usize>, usize, bool),
}

impl core::fmt::Debug for TileKernel {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} ({}x{})", self.name, self.rows, self.columns)
    }
}

/// Input channels per pass over a block, so that one pass's weights and inputs stay in cache.
const CHANNEL_BLOCK: usize = 64;

/// Every kernel this CPU can run, fastest first (natively, the instruction sets are detected at
/// run time, so one binary uses AVX-512 where it exists and AVX2 where it does not).
// Which pushes exist depends on the target (none, one or two), so no `vec![]` fits them all.
#[allow(clippy::vec_init_then_push)]
pub fn available() -> Vec<TileKernel> {
    #[allow(unused_mut)]
    let mut kernels = Vec::new();
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    kernels.push(super::simd128_taps::KERNEL);
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            kernels.push(super::x86_taps::AVX512);
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            kernels.push(super::x86_taps::AVX2);
        }
    }
    kernels
}

/// The kernel the engine uses, or `None` where `gemm` multiplies.
pub fn fastest() -> Option<TileKernel> {
    available().into_iter().next()
}

/// Weights of `[out_channels, in_channels, taps]` regrouped as `[out_channels / rows]
/// [in_channels][taps][rows]` (rows past `out_channels` are zero), the order a kernel reads them.
pub fn pack_weights<W: WeightValue>(weight: &[W], out_channels: usize, in_channels: usize, taps: usize, rows: usize) -> Vec<f32> {
    let tiles = out_channels.div_ceil(rows);
    let filter = in_channels * taps;
    let mut packed = vec![0.0f32; tiles * filter * rows];
    // One tile's `rows` filters at a time, the tiles in parallel: every pass packs all 44 M
    // weights, and on one thread the other threads would wait for it. (The last tile may have
    // fewer filters than `rows`.)
    let pack_tile = |(block, filters): (&mut [f32], &[W])| {
        widen_tile(filters, in_channels, taps, rows, block, |ci, tap| ci * taps + tap);
    };
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        packed.par_chunks_exact_mut(filter * rows).zip(weight.par_chunks(filter * rows)).for_each(pack_tile);
    }
    #[cfg(not(feature = "rayon"))]
    packed.chunks_exact_mut(filter * rows).zip(weight.chunks(filter * rows)).for_each(pack_tile);
    packed
}

/// A register tile's filters, `[rows][in_channels][taps]` (fewer than `rows` in a layer's last
/// tile), widened to `f32` into `block` as `[slot][rows]`, where `slot(ci, tap)` places each tap
/// of each input channel; the rows past the filters are left as they are.
///
/// Every pass widens all 44 M weights this way, so a whole tile is done a tap at a time: the
/// tap's value in every row widened together and stored as one. Row by row, each value was a
/// scalar store `rows` floats from the last and the widening did not vectorise; in the browser
/// that made a warm cutout about 12% slower (Winograd's filters, 2026-12-06).
pub(super) fn widen_tile<W: WeightValue>(
    filters: &[W],
    in_channels: usize,
    taps: usize,
    rows: usize,
    block: &mut [f32],
    slot: impl Fn(usize, usize) -> usize,
) {
    let filter = in_channels * taps;
    match rows {
        4 if filters.len() == 4 * filter => widen_lanes::<W, 4>(filters, in_channels, taps, block, slot),
        8 if filters.len() == 8 * filter => widen_lanes::<W, 8>(filters, in_channels, taps, block, slot),
        _ => {
            for (row, filters) in filters.chunks_exact(filter).enumerate() {
                for (ci, taps_of) in filters.chunks_exact(taps).enumerate() {
                    for (tap, &w) in taps_of.iter().enumerate() {
                        block[slot(ci, tap) * rows + row] = w.widen();
                    }
                }
            }
        }
    }
}

/// [`widen_tile`] of a full tile of `R` rows.
#[inline(always)]
fn widen_lanes<W: WeightValue, const R: usize>(
    filters: &[W],
    in_channels: usize,
    taps: usize,
    block: &mut [f32],
    slot: impl Fn(usize, usize) -> usize,
) {
    let filter = in_channels * taps;
    let rows: [&[W]; R] = core::array::from_fn(|row| &filters[row * filter..][..filter]);
    for ci in 0..in_channels {
        let taps_of = rows.map(|filter| &filter[ci * taps..][..taps]);
        for tap in 0..taps {
            let lanes: [f32; R] = core::array::from_fn(|row| taps_of[row][tap].widen());
            block[slot(ci, tap) * R..][..R].copy_from_slice(&lanes);
        }
    }
}

/// Where the inputs of one block are.
pub struct Operands<'a> {
    /// `pack_weights` of the whole layer, for the kernel's `rows`.
    pub packed: &'a [f32],
    pub in_channels: usize,
    /// Offset of each tap in the padded input, relative to the output column.
    pub tap_offsets: &'a [usize],
    /// The padded input; reads run up to `columns - 1` floats past a block's last column.
    pub padded: &'a [f32],
    pub plane: usize,
}

/// `block[r][j] = sum over ci, tap of w[tile0 * rows + r][ci][tap] * padded[ci][first + j +
/// tap_offsets[tap]]` for `tiles` register tiles of rows and `columns` (a multiple of the
/// kernel's) columns; `block` is row-major with `columns` per row. With `onto`, the sum is added
/// to what `block` holds.
#[allow(clippy::too_many_arguments)]
pub fn accumulate(
    kernel: &TileKernel,
    ops: &Operands,
    block: &mut [f32],
    tile0: usize,
    tiles: usize,
    first: usize,
    columns: usize,
    onto: bool,
) {
    assert_eq!(columns % kernel.columns, 0);
    assert_eq!(block.len(), tiles * kernel.rows * columns);
    let taps = ops.tap_offsets.len();
    let last_read = (ops.in_channels - 1) * ops.plane + first + columns + ops.tap_offsets.iter().max().unwrap_or(&0);
    assert!(last_read <= ops.padded.len(), "padded input too short for the block");
    assert!((tile0 + tiles) * ops.in_channels * taps * kernel.rows <= ops.packed.len());
    for c0 in (0..ops.in_channels).step_by(CHANNEL_BLOCK) {
        let c1 = (c0 + CHANNEL_BLOCK).min(ops.in_channels);
        for j in (0..columns).step_by(kernel.columns) {
            for tile in 0..tiles {
                let out = block[tile * kernel.rows * columns + j..].as_mut_ptr();
                // SAFETY: the asserts above bound every read of `padded` and `packed`; `out`
                // holds `rows` rows of `columns` floats from column j, and j + kernel.columns <=
                // columns. `available` only lists kernels whose instructions this CPU has.
                unsafe { (kernel.product)(ops, out, columns, tile0 + tile, c0..c1, first + j, c0 == 0 && !onto) };
            }
        }
    }
}

/// The body of a kernel: `$rows` by `$vectors` accumulators held in registers across the
/// channels and taps of one pass. The invoking module defines `Vector`, `zero()`, `load(p)`,
/// `store(p, v)`, `splat(p)` (one float broadcast) and `madd(a, b, acc)` (`acc + a * b`), compiled
/// for the same target features as the body, so that they inline into it.
macro_rules! tile_product {
    ($(#[$attribute:meta])* rows: $rows:expr, vectors: $vectors:expr, lanes: $lanes:expr) => {
        $(#[$attribute])*
        pub(super) unsafe fn tile_product(
            ops: &$crate::model::conv::register_tiles::Operands,
            out: *mut f32,
            stride: usize,
            tile: usize,
            channels: core::ops::Range<usize>,
            column: usize,
            fresh: bool,
        ) {
            const ROWS: usize = $rows;
            const VECTORS: usize = $vectors;
            const LANES: usize = $lanes;
            let taps = ops.tap_offsets.len();
            let mut acc: [Vector; ROWS * VECTORS] = [zero(); ROWS * VECTORS];
            if !fresh {
                for r in 0..ROWS {
                    for c in 0..VECTORS {
                        acc[r * VECTORS + c] = unsafe { load(out.add(r * stride + c * LANES)) };
                    }
                }
            }
            let mut w = unsafe { ops.packed.as_ptr().add(((tile * ops.in_channels + channels.start) * taps) * ROWS) };
            // acc += the weights at `w` times the input at `p`, then on to the next weights.
            macro_rules! step {
                ($p:expr) => {
                    unsafe {
                        let p: *const f32 = $p;
                        let mut b: [Vector; VECTORS] = [zero(); VECTORS];
                        for c in 0..VECTORS {
                            b[c] = load(p.add(c * LANES));
                        }
                        for r in 0..ROWS {
                            let a = splat(w.add(r));
                            for c in 0..VECTORS {
                                acc[r * VECTORS + c] = madd(a, b[c], acc[r * VECTORS + c]);
                            }
                        }
                        w = w.add(ROWS);
                    }
                };
            }
            if let [offset] = *ops.tap_offsets {
                // One tap (a plain matrix product, as Winograd's algorithm runs): no loop over
                // taps.
                for ci in channels {
                    step!(ops.padded.as_ptr().add(ci * ops.plane + column + offset));
                }
            } else {
                for ci in channels {
                    let base = unsafe { ops.padded.as_ptr().add(ci * ops.plane + column) };
                    for &offset in ops.tap_offsets {
                        step!(base.add(offset));
                    }
                }
            }
            for r in 0..ROWS {
                for c in 0..VECTORS {
                    unsafe { store(out.add(r * stride + c * LANES), acc[r * VECTORS + c]) };
                }
            }
        }
    };
}
pub(super) use tile_product;

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::f16;

    /// `widen_tile` puts every filter's every tap where `slot` says, for the row counts with a
    /// lane path (4 and 8), a last tile with fewer rows, and a row count without one.
    #[test]
    fn widen_tile_places_every_tap_of_every_row() {
        let (in_channels, taps) = (5, 9);
        let filter = in_channels * taps;
        let slot = |ci: usize, tap: usize| tap * in_channels + ci;
        for (rows, present) in [(4, 4), (4, 3), (8, 8), (8, 5), (3, 3)] {
            let filters: Vec<f16> = (0..present * filter).map(|i| f16::from_f32(i as f32 - 100.0)).collect();
            let mut block = vec![f32::NAN; filter * rows];
            widen_tile(&filters, in_channels, taps, rows, &mut block, slot);
            for row in 0..rows {
                for ci in 0..in_channels {
                    for tap in 0..taps {
                        let got = block[slot(ci, tap) * rows + row];
                        if row < present {
                            assert_eq!(got, filters[row * filter + ci * taps + tap].to_f32(), "rows {rows}/{present}");
                        } else {
                            assert!(got.is_nan(), "rows past the filters are left as they are");
                        }
                    }
                }
            }
        }
    }
}
