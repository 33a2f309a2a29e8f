//! The 3x3 convolutions at dilation 1 by Winograd's minimal filtering algorithm F(2x2, 3x3)
//! (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2015).
//!
//! Why: on the CPU the register-tile kernels already run near the vector units' peak (about 80%
//! of a browser pass, at about 83% of what 128-bit FMA allows), so only fewer multiplications
//! make a pass faster. Each 2x2 block of output ("tile") is computed from the 4x4 input patch
//! around it: the patch and the filter are transformed into 16 components each, the components
//! are multiplied pairwise and summed over input channels (16 matrix products, one per
//! component, done by the same register-tile kernels), and the 16 sums are transformed back into
//! the 2x2 outputs. That is 16 multiplications per input and output channel for four outputs
//! instead of 36: 2.25x fewer. Every undilated 3x3 layer of ISNet takes this path, about 94% of
//! its arithmetic; the dilated ones (the bottom of each RSU block, and RSU4F's) keep the direct
//! products of [`super::shifted_gemm`].
//!
//! The transforms only add, subtract and halve, so in `f32` the result differs from the direct
//! sum by rounding alone; the tests hold it to the definition and the parity tests hold the model
//! to onnxruntime, as for the direct products.

use super::register_tiles::{Operands, TileKernel, accumulate};
use super::shifted_gemm::{ChannelSource, Range, SameConv, SharedOut, WeightValue};

/// Components per tile: the transformed 4x4 patch.
const COMPONENTS: usize = 16;
/// Tiles per task at most: enough that each weight loaded is used for many tiles, few enough that
/// a large image gives the threads many tasks to share.
const MAX_TILES_PER_TASK: usize = 256;
/// Input channels transformed at a time in a task: the register-tile kernels' channel block, so
/// the transformed input (`CHANNEL_CHUNK * COMPONENTS * stride` floats, 1 MiB) stays in cache.
const CHANNEL_CHUNK: usize = 64;
/// Output channels per task: splits the deep layers (few tiles, many channels) across threads.
const CHANNELS_PER_TASK: usize = 64;
/// Floats between consecutive input channels' (and components') blocks beyond their size: the
/// blocks are often a power of two long, and the kernels read one vector from each of 64 input
/// channels in turn; at a 16 KB stride all 64 reads fall in the same set of the L1 cache, which
/// holds 8.
const SKEW: usize = 16;

/// True when `conv` runs by Winograd's algorithm with `kernel`: a 3x3 filter at dilation 1, and
/// at least a register tile's rows of output channels (ISNet's 1-channel head is left to the
/// direct products, as it is left to `gemm` there).
pub(super) fn applies(conv: &SameConv, kernel: Option<TileKernel>) -> bool {
    conv.kernel == 3 && conv.dilation == 1 && kernel.is_none_or(|kernel| conv.out_channels >= kernel.rows)
}

/// `relu?(conv(channels, weight) + bias)`, `[out_channels, height, width]`, for a convolution
/// [`applies`] accepts.
pub(super) fn run<W: WeightValue>(
    conv: &SameConv,
    kernel: Option<TileKernel>,
    channels: &[ChannelSource],
    weight: &[W],
    bias: Option<&[f32]>,
    relu: bool,
) -> Vec<f32> {
    debug_assert!(applies(conv, kernel));
    let filters = Filters::new(conv, weight, kernel);
    let tiling = Tiling::new(conv, kernel);
    let mut output = vec![0.0f32; conv.out_channels * conv.height * conv.width];
    let out = SharedOut { ptr: output.as_mut_ptr(), spatial: conv.height * conv.width, first_row: 0 };
    let run_task = |&(tiles, channels_out): &(Range, Range)| {
        let task = Task { conv, tiling: &tiling, filters: &filters, tiles, channels_out };
        // SAFETY: tasks cover disjoint (output channel, tile) blocks, and tiles disjoint pixels,
        // so each output element is written by exactly one task.
        unsafe { task.run(channels, bias, relu, out) }
    };
    let tasks = tiling.tasks(conv.out_channels);
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        tasks.par_iter().for_each(run_task);
    }
    #[cfg(not(feature = "rayon"))]
    tasks.iter().for_each(run_task);
    output
}

/// How the output is cut into tiles, and the tiles into tasks.
struct Tiling {
    /// Tiles per row of the output.
    across: usize,
    /// Rows of tiles.
    down: usize,
    /// Tiles per task (the last may have fewer), a whole number of register tiles of columns:
    /// also the floats per component of one input channel in a task's transformed input.
    stride: usize,
}

impl Tiling {
    fn new(conv: &SameConv, kernel: Option<TileKernel>) -> Self {
        let columns = kernel.map_or(8, |kernel| kernel.columns);
        let (across, down) = (conv.width.div_ceil(2), conv.height.div_ceil(2));
        let stride = (across * down).min(MAX_TILES_PER_TASK).div_ceil(columns) * columns;
        Self { across, down, stride }
    }

    /// Floats per input channel of a task's transformed input: its components, then `SKEW`.
    fn input_plane(&self) -> usize {
        COMPONENTS * self.stride + SKEW
    }

    /// (tiles, output channels) of every task.
    fn tasks(&self, out_channels: usize) -> Vec<(Range, Range)> {
        let split = |len: usize, step: usize| (0..len.div_ceil(step)).map(move |i| (i * step, ((i + 1) * step).min(len)));
        let tiles = self.across * self.down;
        split(tiles, self.stride)
            .flat_map(|tiles| split(out_channels, CHANNELS_PER_TASK).map(move |channels| (tiles, channels)))
            .collect()
    }

    /// The tiles `first..last` as runs along tile rows: (tile row, first and last tile column).
    fn rows_of(&self, (first, last): Range) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        (first / self.across..=(last - 1) / self.across).map(move |row| {
            let start = first.max(row * self.across) - row * self.across;
            let end = last.min((row + 1) * self.across) - row * self.across;
            (row, start, end)
        })
    }
}

/// The layer's filters transformed, `[COMPONENTS][in_channels / CHANNEL_CHUNK][out_channels /
/// rows][CHANNEL_CHUNK][rows]`: each component's chunk of input channels is laid out as a
/// register-tile kernel reads the weights of one tap (the last chunk may have fewer channels).
enum Filters {
    Tiles(TileKernel, Vec<f32>),
    /// For `gemm`: component `k` is the matrix `[out_channels][in_channels]` (the layout above
    /// with `rows == 1` and one chunk).
    Raw(Vec<f32>),
}

impl Filters {
    fn new<W: WeightValue>(conv: &SameConv, weight: &[W], kernel: Option<TileKernel>) -> Self {
        match kernel {
            Some(kernel) => {
                Self::Tiles(kernel, transform_filters(weight, conv.out_channels, conv.in_channels, kernel.rows, CHANNEL_CHUNK))
            }
            None => Self::Raw(transform_filters(weight, conv.out_channels, conv.in_channels, 1, conv.in_channels)),
        }
    }
}

/// `G g Gᵀ` for every 3x3 filter `g` of `weight` (`[out_channels][in_channels][3][3]`), in the
/// layout of [`Filters`] for `rows` output channels per register tile (rows past
/// `out_channels` are zero) and chunks of `chunk` input channels, with `G = [1 0 0; ½ ½ ½;
/// ½ -½ ½; 0 0 1]`.
fn transform_filters<W: WeightValue>(
    weight: &[W],
    out_channels: usize,
    in_channels: usize,
    rows: usize,
    chunk: usize,
) -> Vec<f32> {
    let tiles = out_channels.div_ceil(rows);
    let component_len = tiles * in_channels * rows;
    // Where channel `channel` of tile `tile` lies in a component.
    let offset = move |tile: usize, channel: usize| {
        let (start, len) = (channel / chunk * chunk, chunk.min(in_channels - channel / chunk * chunk));
        start * tiles * rows + (tile * len + channel - start) * rows
    };
    let mut transformed = vec![0.0f32; COMPONENTS * component_len];
    let shared = SharedFloats(transformed.as_mut_ptr());
    // The tiles in parallel (every pass transforms all 44 M weights); each writes its own block
    // of every component.
    let transform_tile = |tile: usize| {
        let filters = weight.chunks_exact(in_channels * 9).skip(tile * rows).take(rows);
        for (row, filter) in filters.enumerate() {
            for (channel, g) in filter.chunks_exact(9).enumerate() {
                let g: [f32; 9] = core::array::from_fn(|i| g[i].widen());
                // h = G g (4x3), then u = h Gᵀ (4x4).
                let mut h = [0.0f32; 12];
                for k in 0..3 {
                    let (g0, g1, g2) = (g[k], g[3 + k], g[6 + k]);
                    h[k] = g0;
                    h[3 + k] = 0.5 * (g0 + g1 + g2);
                    h[6 + k] = 0.5 * (g0 - g1 + g2);
                    h[9 + k] = g2;
                }
                for i in 0..4 {
                    let (h0, h1, h2) = (h[3 * i], h[3 * i + 1], h[3 * i + 2]);
                    let u = [h0, 0.5 * (h0 + h1 + h2), 0.5 * (h0 - h1 + h2), h2];
                    for (j, u) in u.into_iter().enumerate() {
                        let at = (4 * i + j) * component_len + offset(tile, channel) + row;
                        // SAFETY: `at` is inside `transformed` and in this tile's block.
                        unsafe { shared.write(at, u) };
                    }
                }
            }
        }
    };
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        (0..tiles).into_par_iter().for_each(transform_tile);
    }
    #[cfg(not(feature = "rayon"))]
    (0..tiles).for_each(transform_tile);
    transformed
}

/// `transformed`, written by the tiles of `transform_filters` in parallel.
#[derive(Clone, Copy)]
struct SharedFloats(*mut f32);
// SAFETY: the tiles write disjoint elements.
unsafe impl Send for SharedFloats {}
unsafe impl Sync for SharedFloats {}

impl SharedFloats {
    /// # Safety
    /// `at` is inside the buffer, and no other thread writes or reads it meanwhile.
    unsafe fn write(&self, at: usize, value: f32) {
        unsafe { *self.0.add(at) = value }
    }
}

/// One task: a run of tiles by a block of output channels.
struct Task<'a> {
    conv: &'a SameConv,
    tiling: &'a Tiling,
    filters: &'a Filters,
    tiles: Range,
    channels_out: Range,
}

/// A thread's buffers for its tasks, kept from task to task: allocating them per task cost more
/// than the transforms (page faults natively, and in WebAssembly memory that is never returned
/// anyway). Their contents past what a task writes are left from earlier tasks; see `run`.
#[derive(Default)]
struct Scratch {
    /// `[in_channels][COMPONENTS][stride]`, each channel followed by `SKEW` floats.
    inputs: Vec<f32>,
    /// `[COMPONENTS][group][stride]`, each component followed by `SKEW` floats.
    sums: Vec<f32>,
    /// Four patch rows, each as its even columns then its odd columns.
    split: Vec<f32>,
    /// `Bᵀ d` of those rows, in the same layout.
    combined: Vec<f32>,
    /// One input row, where it is resized as it is read.
    row: Vec<f32>,
    /// Two output rows of a run of tiles.
    pixels: Vec<f32>,
}

std::thread_local! {
    static SCRATCH: core::cell::RefCell<Scratch> = core::cell::RefCell::default();
}

/// `buffer` at least `len` long (growing it with zeros), as a slice of `len`.
fn at_least(buffer: &mut Vec<f32>, len: usize) -> &mut [f32] {
    if buffer.len() < len {
        buffer.resize(len, 0.0);
    }
    &mut buffer[..len]
}

impl Task<'_> {
    /// Transforms the task's input patches, multiplies them with the filters of the task's
    /// output channels, and writes those channels' outputs.
    ///
    /// Past the task's tiles, the transformed inputs (and so the sums) hold whatever an earlier
    /// task left there: each column of a matrix product depends on that column alone, and those
    /// columns are never written out.
    unsafe fn run(&self, channels: &[ChannelSource], bias: Option<&[f32]>, relu: bool, out: SharedOut) {
        SCRATCH.with_borrow_mut(|scratch| {
            let Scratch { inputs, sums, split, combined, row, pixels } = scratch;
            let (c0, c1) = self.channels_out;
            let group = match self.filters {
                Filters::Tiles(kernel, _) => (c1 - c0).div_ceil(kernel.rows) * kernel.rows,
                Filters::Raw(_) => c1 - c0,
            };
            let sums = at_least(sums, COMPONENTS * (group * self.tiling.stride + SKEW));
            for (index, chunk) in channels.chunks(CHANNEL_CHUNK).enumerate() {
                let inputs = at_least(inputs, chunk.len() * self.tiling.input_plane());
                self.transform_inputs(chunk, inputs, split, combined, row);
                self.products(inputs, index * CHANNEL_CHUNK..index * CHANNEL_CHUNK + chunk.len(), group, sums);
            }
            let pixels = at_least(pixels, 4 * self.tiling.across.min(self.tiles.1 - self.tiles.0));
            for row in 0..c1 - c0 {
                let b = bias.map_or(0.0, |b| b[c0 + row]);
                // SAFETY: channel `c0 + row` is in this task's block (see `run`).
                unsafe { self.write_outputs(sums, group, row, c0 + row, b, relu, pixels, out) };
            }
        })
    }

    /// `Bᵀ d B` with `Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]`, for the 4x4 input patch `d`
    /// of every tile of the task and every input channel, into `inputs`.
    ///
    /// Computed a run of tiles at a time, as operations on whole slices that the compiler turns
    /// into vector instructions: the patch of tile `x` starts at padded column `2x` (image column
    /// `2x - 1`), so with each padded row split into its even and odd columns, the patches'
    /// columns are those two slices read from `x` and from `x + 1`.
    fn transform_inputs(
        &self,
        channels: &[ChannelSource],
        inputs: &mut [f32],
        split: &mut Vec<f32>,
        combined: &mut Vec<f32>,
        row_buffer: &mut Vec<f32>,
    ) {
        let (height, width) = (self.conv.height, self.conv.width);
        let (across, stride) = (self.tiling.across, self.tiling.stride);
        let half = across + 1;
        let split = at_least(split, 8 * half);
        let combined = at_least(combined, 8 * half);
        let row_buffer = at_least(row_buffer, width);
        for (source, components) in channels.iter().zip(inputs.chunks_exact_mut(self.tiling.input_plane())) {
            for (tile_row, start, end) in self.tiling.rows_of(self.tiles) {
                // Patch row `a` is image row 2 * tile_row - 1 + a, zero outside the image.
                for (a, halves) in split.chunks_exact_mut(2 * half).enumerate() {
                    let (even, odd) = halves.split_at_mut(half);
                    let y = (2 * tile_row + a).checked_sub(1).filter(|&y| y < height);
                    let Some(y) = y else {
                        even.fill(0.0);
                        odd.fill(0.0);
                        continue;
                    };
                    let row = source.row(y, width, row_buffer);
                    // Padded column 2k is image column 2k - 1; 2k + 1 is 2k.
                    let pairs = row.chunks_exact(2);
                    let last = pairs.remainder().first().copied();
                    even[0] = 0.0;
                    for ((odd, even), pair) in odd.iter_mut().zip(&mut even[1..]).zip(pairs) {
                        (*odd, *even) = (pair[0], pair[1]);
                    }
                    even[1 + width / 2..].fill(0.0);
                    odd[width / 2..].fill(0.0);
                    if let Some(last) = last {
                        odd[width / 2] = last;
                    }
                }
                let [d0, d1, d2, d3] = quarters(split);
                let [w0, w1, w2, w3] = quarters_mut(combined);
                for i in 0..2 * half {
                    (w0[i], w1[i], w2[i], w3[i]) = (d0[i] - d2[i], d1[i] + d2[i], d2[i] - d1[i], d1[i] - d3[i]);
                }
                let at = tile_row * across - self.tiles.0;
                let n = end - start;
                for (i, w) in combined.chunks_exact(2 * half).enumerate() {
                    let (even, odd) = w.split_at(half);
                    let (e0, e1, o0, o1) =
                        (&even[start..end], &even[start + 1..end + 1], &odd[start..end], &odd[start + 1..end + 1]);
                    let out = &mut components[4 * i * stride..][..4 * stride];
                    let (v0, rest) = out.split_at_mut(stride);
                    let (v1, rest) = rest.split_at_mut(stride);
                    let (v2, v3) = rest.split_at_mut(stride);
                    let (v0, v1, v2, v3) = (
                        &mut v0[at + start..][..n],
                        &mut v1[at + start..][..n],
                        &mut v2[at + start..][..n],
                        &mut v3[at + start..][..n],
                    );
                    for x in 0..n {
                        (v0[x], v1[x], v2[x], v3[x]) = (e0[x] - e1[x], o0[x] + e1[x], e1[x] - o0[x], o0[x] - o1[x]);
                    }
                }
            }
        }
    }

    /// For the task's output channels (`group` rows, those past its channels zero), the sums
    /// over input channels `chunk` (transformed in `inputs`) of filter[k] x input[k], one matrix
    /// product per component, into `sums[k][row][tile]` (each component's block followed by
    /// `SKEW` floats): written by the first chunk, added to by the others.
    fn products(&self, inputs: &[f32], chunk: core::ops::Range<usize>, group: usize, sums: &mut [f32]) {
        let in_channels = self.conv.in_channels;
        let (stride, first, onto) = (self.tiling.stride, self.channels_out.0, chunk.start > 0);
        let blocks = sums.chunks_exact_mut(group * stride + SKEW).enumerate();
        match self.filters {
            Filters::Tiles(kernel, packed) => {
                let component_len = packed.len() / COMPONENTS;
                let tiles = component_len / (in_channels * kernel.rows);
                for (component, block) in blocks {
                    let ops = Operands {
                        packed: &packed[component * component_len + chunk.start * tiles * kernel.rows..]
                            [..tiles * chunk.len() * kernel.rows],
                        in_channels: chunk.len(),
                        tap_offsets: &[0],
                        padded: inputs,
                        plane: self.tiling.input_plane(),
                    };
                    let block = &mut block[..group * stride];
                    accumulate(kernel, &ops, block, first / kernel.rows, group / kernel.rows, component * stride, stride, onto);
                }
            }
            Filters::Raw(raw) => {
                let component_len = raw.len() / COMPONENTS;
                for (component, block) in blocks {
                    // lhs[co, ci] = raw[component][first + co][chunk.start + ci]; rhs[ci, t] =
                    // inputs[ci][component][t].
                    // SAFETY: both stay inside `raw` and `inputs` (`group` channels from
                    // `first`, the chunk's channels of `stride` tiles).
                    unsafe {
                        gemm::gemm(
                            group,
                            stride,
                            chunk.len(),
                            block.as_mut_ptr(),
                            1,
                            stride as isize,
                            onto,
                            raw.as_ptr().add(component * component_len + first * in_channels + chunk.start),
                            1,
                            in_channels as isize,
                            inputs.as_ptr().add(component * stride),
                            1,
                            self.tiling.input_plane() as isize,
                            1.0,
                            1.0,
                            false,
                            false,
                            false,
                            gemm::Parallelism::None,
                        );
                    }
                }
            }
        }
    }

    /// `Aᵀ m A` with `Aᵀ = [1 1 1 0; 0 1 -1 -1]` for every tile of output channel `channel`
    /// (row `row` of a group of `group` in `sums`), plus `bias`, through the ReLU when `relu`,
    /// written where the tile lies in the output (the pixels past its edge are dropped). As in
    /// `transform_inputs`, a run of tiles at a time on whole slices.
    #[allow(clippy::too_many_arguments)]
    unsafe fn write_outputs(
        &self,
        sums: &[f32],
        group: usize,
        row: usize,
        channel: usize,
        bias: f32,
        relu: bool,
        pixels: &mut [f32],
        out: SharedOut,
    ) {
        let (height, width) = (self.conv.height, self.conv.width);
        let stride = self.tiling.stride;
        let base = channel * out.spatial;
        let activate = |value: f32| if relu { (value + bias).max(0.0) } else { value + bias };
        for (tile_row, start, end) in self.tiling.rows_of(self.tiles) {
            let at = tile_row * self.tiling.across - self.tiles.0 + start;
            let n = end - start;
            let m: [&[f32]; 16] = core::array::from_fn(|k| &sums[k * (group * stride + SKEW) + row * stride + at..][..n]);
            let (top, bottom) = pixels[..4 * n].split_at_mut(2 * n);
            for x in 0..n {
                // t = Aᵀ m (2x4), then y = t A (2x2).
                let t0: [f32; 4] = core::array::from_fn(|j| m[j][x] + m[4 + j][x] + m[8 + j][x]);
                let t1: [f32; 4] = core::array::from_fn(|j| m[4 + j][x] - m[8 + j][x] - m[12 + j][x]);
                top[2 * x] = activate(t0[0] + t0[1] + t0[2]);
                top[2 * x + 1] = activate(t0[1] - t0[2] - t0[3]);
                bottom[2 * x] = activate(t1[0] + t1[1] + t1[2]);
                bottom[2 * x + 1] = activate(t1[1] - t1[2] - t1[3]);
            }
            let (y, x) = (2 * tile_row, 2 * start);
            let columns = (2 * n).min(width - x);
            for (i, pixels) in [&*top, &*bottom].into_iter().enumerate().take(height - y) {
                // SAFETY: row y + i < height and columns x..x + columns < width of `channel`, in
                // this task's block; `pixels` holds at least `columns` values.
                unsafe { core::ptr::copy_nonoverlapping(pixels.as_ptr(), out.ptr.add(base + (y + i) * width + x), columns) };
            }
        }
    }
}

/// The four equal quarters of `values`.
fn quarters(values: &[f32]) -> [&[f32]; 4] {
    let n = values.len() / 4;
    core::array::from_fn(|i| &values[i * n..][..n])
}

/// The four equal quarters of `values`, to write.
fn quarters_mut(values: &mut [f32]) -> [&mut [f32]; 4] {
    let n = values.len() / 4;
    let (a, rest) = values.split_at_mut(n);
    let (b, rest) = rest.split_at_mut(n);
    let (c, d) = rest.split_at_mut(n);
    [a, b, c, &mut d[..n]]
}

#[cfg(test)]
mod tests {
    use super::super::reference::worst_difference;
    use super::super::register_tiles::available;
    use super::*;

    fn check(shape: SameConv) {
        for kernel in available().into_iter().map(Some).chain([None]) {
            assert!(applies(&shape, kernel));
            let worst = worst_difference(shape, true, kernel);
            assert!(worst < 1e-4, "{shape:?} with {kernel:?}: max abs difference {worst}");
        }
    }

    #[test]
    fn matches_the_definition_on_odd_and_even_sizes() {
        let conv = |in_channels, out_channels, height, width| SameConv {
            in_channels,
            out_channels,
            height,
            width,
            kernel: 3,
            dilation: 1,
        };
        check(conv(16, 8, 37, 45));
        check(conv(8, 80, 20, 33));
        check(conv(64, 64, 16, 16));
        check(conv(5, 130, 9, 70));
        check(conv(3, 8, 1, 1));
        check(conv(200, 16, 6, 3));
    }

    #[test]
    fn tasks_cover_every_tile_and_channel_once() {
        let shape = SameConv { in_channels: 300, out_channels: 150, height: 61, width: 47, kernel: 3, dilation: 1 };
        let tiling = Tiling::new(&shape, None);
        let mut seen = vec![0u8; tiling.across * tiling.down * shape.out_channels];
        for ((t0, t1), (c0, c1)) in tiling.tasks(shape.out_channels) {
            assert!(t1 - t0 <= tiling.stride);
            for tile in t0..t1 {
                for channel in c0..c1 {
                    seen[channel * tiling.across * tiling.down + tile] += 1;
                }
            }
        }
        assert!(seen.iter().all(|&n| n == 1));
    }
}
