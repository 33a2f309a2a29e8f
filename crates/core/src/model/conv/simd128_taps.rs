//! The tap products of [`super::SameConv`] in WebAssembly, with fused multiply-add.
//!
//! Why by hand: in the browser, `gemm`'s simd128 micro-kernel was two thirds of a cutout's time
//! (V8 profile of the CPU worker), and it multiplies and adds in two instructions because
//! `gemm` has no relaxed-SIMD kernel. With the `relaxed-simd` feature (the threaded CPU worker), this
//! kernel uses `f32x4.relaxed_madd`, one fused instruction on every CPU with FMA. It also needs
//! no packing of the input: a tap's operand is a run of consecutive floats in the padded input,
//! read where it is. Without the `relaxed-simd` feature it multiplies and adds like `gemm`.
//! Single-threaded in Node (V8 11.3), on eight of ISNet's layer shapes: 19-31 GFLOP/s, 5.5 s in
//! all, against `gemm`'s 11-14 GFLOP/s and 10.4 s (without relaxed SIMD: 18-23 GFLOP/s, 6.5 s).
//!
//! Register tile: 4 output channels by 8 columns (8 accumulators, 2 input vectors, one broadcast
//! weight). Measured in Node against 4x12, 3x16, 2x24, 6x8 and 8x4: 4x12 fills the 16 vector
//! registers V8 has on x86-64 and ran 20-40% slower than 4x8.

use core::arch::wasm32::*;

/// Output channels per register tile.
pub const ROWS: usize = 4;
/// Output columns per register tile.
pub const COLUMNS: usize = 4 * VECTORS;
/// 128-bit vectors of columns per register tile.
const VECTORS: usize = 2;
/// Input channels per pass over a block, so that one pass's weights and inputs stay in cache.
const CHANNEL_BLOCK: usize = 64;

/// Weights of `[out_channels, in_channels, taps]` regrouped as `[out_channels / 4][in_channels]
/// [taps][4]` (rows past `out_channels` are zero), the order the kernel reads them in.
pub fn pack_weights(weight: &[f32], out_channels: usize, in_channels: usize, taps: usize) -> Vec<f32> {
    let tiles = out_channels.div_ceil(ROWS);
    let mut packed = vec![0.0f32; tiles * in_channels * taps * ROWS];
    for (co, filters) in weight.chunks_exact(in_channels * taps).enumerate() {
        let (tile, row) = (co / ROWS, co % ROWS);
        for (ci, taps_of) in filters.chunks_exact(taps).enumerate() {
            for (tap, &w) in taps_of.iter().enumerate() {
                packed[((tile * in_channels + ci) * taps + tap) * ROWS + row] = w;
            }
        }
    }
    packed
}

/// Where the inputs of one block are.
pub struct Operands<'a> {
    /// `pack_weights` of the whole layer.
    pub packed: &'a [f32],
    pub in_channels: usize,
    /// Offset of each tap in the padded input, relative to the output column.
    pub tap_offsets: &'a [usize],
    /// The padded input; reads run up to `COLUMNS - 1` floats past a block's last column.
    pub padded: &'a [f32],
    pub plane: usize,
}

/// `block[r][j] = sum over ci, tap of w[tile0 * 4 + r][ci][tap] * padded[ci][first + j +
/// tap_offsets[tap]]` for `tiles` register tiles of rows and `columns` (a multiple of COLUMNS)
/// columns; `block` is row-major with `columns` per row.
pub fn accumulate(ops: &Operands, block: &mut [f32], tile0: usize, tiles: usize, first: usize, columns: usize) {
    debug_assert_eq!(columns % COLUMNS, 0);
    debug_assert_eq!(block.len(), tiles * ROWS * columns);
    let taps = ops.tap_offsets.len();
    let last_read = (ops.in_channels - 1) * ops.plane + first + columns + ops.tap_offsets.iter().max().unwrap_or(&0);
    assert!(last_read <= ops.padded.len(), "padded input too short for the block");
    assert!((tile0 + tiles) * ops.in_channels * taps * ROWS <= ops.packed.len());
    for c0 in (0..ops.in_channels).step_by(CHANNEL_BLOCK) {
        let c1 = (c0 + CHANNEL_BLOCK).min(ops.in_channels);
        for j in (0..columns).step_by(COLUMNS) {
            for tile in 0..tiles {
                let out = &mut block[tile * ROWS * columns + j..];
                // SAFETY: the asserts above bound every read of `padded` and `packed`; `out`
                // holds ROWS rows of `columns` floats from column j, and j + COLUMNS <= columns.
                unsafe { tile_product(ops, out, columns, tile0 + tile, c0..c1, first + j, c0 == 0) };
            }
        }
    }
}

// Only these functions are compiled for relaxed SIMD (not the whole build with RUSTFLAGS):
// flex's SIMD library does not build with it.
#[cfg(feature = "relaxed-simd")]
#[target_feature(enable = "relaxed-simd")]
#[inline]
unsafe fn madd(a: v128, b: v128, acc: v128) -> v128 {
    f32x4_relaxed_madd(a, b, acc)
}

#[cfg(not(feature = "relaxed-simd"))]
#[inline(always)]
unsafe fn madd(a: v128, b: v128, acc: v128) -> v128 {
    f32x4_add(f32x4_mul(a, b), acc)
}

#[cfg_attr(feature = "relaxed-simd", target_feature(enable = "relaxed-simd"))]
unsafe fn tile_product(
    ops: &Operands,
    out: &mut [f32],
    stride: usize,
    tile: usize,
    channels: core::ops::Range<usize>,
    column: usize,
    fresh: bool,
) {
    let taps = ops.tap_offsets.len();
    let out = out.as_mut_ptr();
    let mut acc = [f32x4_splat(0.0); ROWS * VECTORS];
    if !fresh {
        for r in 0..ROWS {
            for c in 0..VECTORS {
                acc[r * VECTORS + c] = unsafe { v128_load(out.add(r * stride + c * 4) as *const v128) };
            }
        }
    }
    let mut w = unsafe { ops.packed.as_ptr().add(((tile * ops.in_channels + channels.start) * taps) * ROWS) };
    for ci in channels {
        let base = unsafe { ops.padded.as_ptr().add(ci * ops.plane + column) };
        for &offset in ops.tap_offsets {
            unsafe {
                let p = base.add(offset);
                let b = [v128_load(p as *const v128), v128_load(p.add(4) as *const v128)];
                for r in 0..ROWS {
                    let a = v128_load32_splat(w.add(r) as *const u32);
                    for c in 0..VECTORS {
                        acc[r * VECTORS + c] = madd(a, b[c], acc[r * VECTORS + c]);
                    }
                }
                w = w.add(ROWS);
            }
        }
    }
    for r in 0..ROWS {
        for c in 0..VECTORS {
            unsafe { v128_store(out.add(r * stride + c * 4) as *mut v128, acc[r * VECTORS + c]) };
        }
    }
}
