//! The 3x3 convolutions at dilation 1 by Winograd's minimal filtering algorithm F(4x4, 3x3)
//! (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2015).
//!
//! Why: on the CPU the register-tile kernels already run near the vector units' peak (about 80%
//! of a browser pass, at about 83% of what 128-bit FMA allows), so only fewer multiplications
//! make a pass faster. Each 4x4 block of output ("tile") is computed from the 6x6 input patch
//! around it: the patch and the filter are transformed into 36 components each, the components
//! are multiplied pairwise and summed over input channels (36 matrix products, one per
//! component, done by the same register-tile kernels), and the 36 sums are transformed back into
//! the 4x4 outputs. That is 36 multiplications per input and output channel for sixteen outputs
//! instead of 144: 4x fewer. (F(2x2, 3x3), used before, took 16 for four: 2.25x fewer.) Every
//! undilated 3x3 layer of ISNet takes this path, about 94% of its arithmetic; the dilated ones
//! (the bottom of each RSU block, and RSU4F's) keep the direct products of
//! [`super::shifted_gemm`].
//!
//! The input and output transforms only add, subtract and multiply by 2, 4, 5 and 8; the
//! filter transform divides by 4, 6, 12 and 24 (the points 0, ±1, ±2 and infinity). So in `f32`
//! the result differs from the direct sum by rounding alone, a little more than F(2x2, 3x3)'s: the
//! tests hold it to the definition and the parity tests hold the model to onnxruntime, as for the
//! direct products.

use super::phases;
use super::register_tiles::{Operands, TileKernel, accumulate, available, widen_tile};
use super::shifted_gemm::{ChannelSource, Range, SameConv, SharedOut, WeightValue};
use crate::model::maxima;

/// Outputs per side of a tile.
const TILE: usize = 4;
/// Inputs per side of a tile's patch: the tile and the filter's reach of one on each side.
const PATCH: usize = TILE + 2;
/// Components per tile: the transformed 6x6 patch.
const COMPONENTS: usize = PATCH * PATCH;
/// Tiles per task at most: enough that each weight loaded is used for many tiles, few enough that
/// a large image gives the threads many tasks to share.
const MAX_TILES_PER_TASK: usize = 128;
/// Input channels transformed at a time in a task: the register-tile kernels' channel block, so
/// the transformed input (`CHANNEL_CHUNK * COMPONENTS * stride` floats, 1.1 MiB) stays in cache.
const CHANNEL_CHUNK: usize = 64;
/// Output channels per task: splits the deep layers (few tiles, many channels) across threads.
const CHANNELS_PER_TASK: usize = 64;
/// Floats between consecutive input channels' (and components') blocks beyond their size: the
/// blocks are often a power of two long, and the kernels read one vector from each of 64 input
/// channels in turn; at a 16 KB stride all 64 reads fall in the same set of the L1 cache, which
/// holds 8.
const SKEW: usize = 16;

/// At most this many products per output pixel and pair of channels, counting those of the
/// columns a register tile computes past a layer's last tile: the direct products take 9, and the
/// transforms cost more than they save above about half that. On a large map it is 36 per 16
/// pixels, 2.25; on small ones (the bottom of each RSU block) a register tile is wider than the
/// layer has tiles.
const MAX_PRODUCTS_PER_PIXEL: f64 = 4.5;

/// True when `conv` runs by Winograd's algorithm with `kernel`: a 3x3 filter at dilation 1, at
/// least a register tile's rows of output channels (ISNet's 1-channel head is left to the direct
/// products, as it is left to `gemm` there), and enough tiles to fill the register tiles of the
/// kernel it takes (see [`kernel_for`]).
pub(super) fn applies(conv: &SameConv, kernel: Option<TileKernel>) -> bool {
    let kernel = kernel_for(conv, kernel);
    conv.kernel == 3
        && conv.dilation == 1
        && kernel.is_none_or(|kernel| conv.out_channels >= kernel.rows)
        && products_per_pixel(conv, kernel) <= MAX_PRODUCTS_PER_PIXEL
}

/// The kernel for `conv`: `kernel`, unless its register tiles are so wide that a narrower one this
/// CPU has computes a quarter fewer columns (AVX-512's 48 columns against AVX2's 16 on a map of
/// 16x16 pixels, which has 16 tiles).
pub(super) fn kernel_for(conv: &SameConv, kernel: Option<TileKernel>) -> Option<TileKernel> {
    let given = kernel?;
    let columns = |kernel: &TileKernel| Tiling::new(conv, Some(*kernel)).padded_tiles();
    let narrower = available()
        .into_iter()
        .filter(|other| other.columns < given.columns && other.rows <= conv.out_channels)
        .min_by_key(columns)
        .filter(|other| 4 * columns(other) < 3 * columns(&given));
    Some(narrower.unwrap_or(given))
}

/// Products per output pixel and pair of channels of `conv` with `kernel`.
fn products_per_pixel(conv: &SameConv, kernel: Option<TileKernel>) -> f64 {
    (COMPONENTS * Tiling::new(conv, kernel).padded_tiles()) as f64 / (conv.height * conv.width).max(1) as f64
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
    let kernel = kernel_for(conv, kernel);
    let batch = filter_batch(conv);
    if batch >= conv.out_channels {
        return convolve(conv, kernel, &Filters::new(conv, weight, kernel), channels, bias, relu);
    }
    // The output channels a batch at a time, each batch's filters transformed just before it: the
    // output is channel-major, so the batches' outputs follow each other.
    let mut output = Vec::with_capacity(conv.out_channels * conv.height * conv.width);
    for first in (0..conv.out_channels).step_by(batch) {
        let last = (first + batch).min(conv.out_channels);
        let part = SameConv { out_channels: last - first, ..*conv };
        let per_channel = conv.in_channels * 9;
        let filters = Filters::new(&part, &weight[first * per_channel..last * per_channel], kernel);
        output.extend(convolve(&part, kernel, &filters, channels, bias.map(|bias| &bias[first..last]), relu));
    }
    output
}

/// At most about this many bytes of transformed filters at a time. F(4x4, 3x3) transforms each
/// 3x3 filter into 36 floats, 16x the f16 weights: for ISNet's widest layer (1024 -> 512
/// channels) 75 MB, which stayed in the worker's memory for good (WebAssembly's never shrinks):
/// after a 1024 pass it held 420 MiB, and 348 MiB in batches of at most this.
const FILTER_BATCH_BYTES: usize = 24 << 20;

/// Output channels whose filters are transformed and used together: as many as
/// [`FILTER_BATCH_BYTES`] holds, in pairs of tasks (at least one pair). The wide layers are on
/// small maps, where a batch's channels are all the tasks there are: in pairs, two threads
/// finish a batch together (in batches of one task, one thread worked while the other waited,
/// and a pass took 5% longer).
fn filter_batch(conv: &SameConv) -> usize {
    let per_channel = conv.in_channels * COMPONENTS * size_of::<f32>();
    let pair = 2 * CHANNELS_PER_TASK;
    (FILTER_BATCH_BYTES / per_channel / pair).max(1) * pair
}

/// The filters of `conv` transformed once, for convolving several inputs with them (see
/// [`super::subgrids`]).
pub(super) struct Transformed {
    filters: Filters,
    kernel: Option<TileKernel>,
}

impl Transformed {
    /// For `kernel` as given (the caller picks it with [`kernel_for`]).
    pub(super) fn new<W: WeightValue>(conv: &SameConv, weight: &[W], kernel: Option<TileKernel>) -> Self {
        Self { filters: Filters::new(conv, weight, kernel), kernel }
    }

    /// As [`run`] with these filters; `conv` may differ from theirs only in height and width.
    pub(super) fn run(&self, conv: &SameConv, channels: &[ChannelSource], bias: Option<&[f32]>, relu: bool) -> Vec<f32> {
        convolve(conv, self.kernel, &self.filters, channels, bias, relu)
    }
}

fn convolve(
    conv: &SameConv,
    kernel: Option<TileKernel>,
    filters: &Filters,
    channels: &[ChannelSource],
    bias: Option<&[f32]>,
    relu: bool,
) -> Vec<f32> {
    let tiling = Tiling::new(conv, kernel);
    // Not zeroed first: the tasks write every element. The allocator zeroed memory it had reused
    // on the pass's thread alone while the others waited: in WebAssembly 39-46 ms of a warm
    // cutout's samples (and in a worker's first pass, the first touch of the fresh memory), and
    // natively, where the CLI keeps freed memory, a pass took 684-769 ms against 639-666 now.
    let len = conv.out_channels * conv.height * conv.width;
    let mut output = Vec::<f32>::with_capacity(len);
    let out = SharedOut { ptr: output.as_mut_ptr(), spatial: conv.height * conv.width, first_row: 0 };
    let run_task = |&(tiles, channels_out): &(Range, Range)| {
        let task = Task { conv, tiling: &tiling, filters, tiles, channels_out };
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
    // SAFETY: the tasks cover every (output channel, tile) once (`Tiling::tasks`), and a task
    // writes every pixel of its tiles that lies in the image (`Task::write_outputs`).
    unsafe { output.set_len(len) };
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
        let (across, down) = (conv.width.div_ceil(TILE), conv.height.div_ceil(TILE));
        let stride = (across * down).min(MAX_TILES_PER_TASK).div_ceil(columns) * columns;
        Self { across, down, stride }
    }

    /// Tiles the register tiles compute: every task's `stride`, the last one's past the map.
    fn padded_tiles(&self) -> usize {
        (self.across * self.down).div_ceil(self.stride) * self.stride
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
/// `out_channels` are zero) and chunks of `chunk` input channels, with
/// `G = [¼ 0 0; -⅙ -⅙ -⅙; -⅙ ⅙ -⅙; 1/24 1/12 ⅙; 1/24 -1/12 ⅙; 0 0 1]`.
///
/// Every pass transforms all 44 M weights again (kept between passes they would take 16x the
/// f16 weights' memory), so this is written for speed: a register tile's `rows` filters of one
/// input channel are transformed together, one lane each, so that the arithmetic vectorises and
/// each component's `rows` values are one contiguous store; the divisions are multiplications by
/// the reciprocals (they differ by rounding alone, and a division costs several
/// multiplications); and no element of the result is zeroed first, since every one is written.
/// Done one filter at a time, with divisions and 36 scattered stores, it took 29% of a native
/// pass at 512 (`perf`); this way a native pass at 512 takes 0.42-0.51 s instead of 0.55-0.71 s, at 1024
/// 1.49-1.66 s instead of 1.68-1.87 s, and a browser cutout at 1024 2.4-2.7 s instead of 2.8-3.3 s.
fn transform_filters<W: WeightValue>(
    weight: &[W],
    out_channels: usize,
    in_channels: usize,
    rows: usize,
    chunk: usize,
) -> Vec<f32> {
    let tiles = out_channels.div_ceil(rows);
    let component_len = tiles * in_channels * rows;
    let len = COMPONENTS * component_len;
    let layout = FilterLayout { in_channels, tiles, rows, chunk, component_len };
    let mut transformed = Vec::<f32>::with_capacity(len);
    let shared = SharedFloats(transformed.as_mut_ptr());
    // The filters widened to `f32`, each tile's laid out `[9][in_channels][rows]`, so that the
    // lanes below load each value of a filter for all rows at once (gathered from
    // `[rows][in_channels][9]` lane by lane, the loads waited on the stores before them); rows past
    // the layer's last output channel stay zero. Allocated and freed with `transformed`: a buffer
    // kept by each thread, grown whenever a thread first met a wider layer, could split the free
    // memory that the next batch's filters need in one piece (a browser test saw the worker's
    // memory grow by 18 MiB after 20 photos).
    let per_tile = rows * in_channels * 9;
    let mut widened = vec![0.0f32; tiles * per_tile];
    // Each tile (its block of `widened`, and its filters: all `rows`, or fewer in the last one)
    // writes its own block of every component.
    let transform_tile = |(tile, (widened, filters)): (usize, (&mut [f32], &[W]))| {
        widen_tile(filters, in_channels, 9, rows, widened, |channel, k| k * in_channels + channel);
        // SAFETY: each call writes only tile `tile`'s elements, inside `transformed`.
        unsafe {
            match rows {
                4 => transform_tile_lanes::<4>(widened, &layout, tile, 0, shared),
                8 => transform_tile_lanes::<8>(widened, &layout, tile, 0, shared),
                _ => (0..rows).for_each(|row| transform_tile_lanes::<1>(widened, &layout, tile, row, shared)),
            }
        }
    };
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        widened.par_chunks_mut(per_tile).zip(weight.par_chunks(per_tile)).enumerate().for_each(transform_tile);
    }
    #[cfg(not(feature = "rayon"))]
    widened.chunks_mut(per_tile).zip(weight.chunks(per_tile)).enumerate().for_each(transform_tile);
    // SAFETY: the tiles wrote every element: for each tile, each of its `rows` rows (as lanes of
    // one call or one call each), each input channel and each component.
    unsafe { transformed.set_len(len) };
    transformed
}

/// Where [`transform_filters`] writes.
struct FilterLayout {
    in_channels: usize,
    tiles: usize,
    rows: usize,
    chunk: usize,
    component_len: usize,
}

impl FilterLayout {
    /// Where row 0 of input channel `channel` of tile `tile` lies in a component.
    fn offset(&self, tile: usize, channel: usize) -> usize {
        let Self { in_channels, tiles, rows, chunk, .. } = *self;
        let (start, len) = (channel / chunk * chunk, chunk.min(in_channels - channel / chunk * chunk));
        start * tiles * rows + (tile * len + channel - start) * rows
    }
}

/// The transformed filters of the `R` output channels of tile `tile` from its row `row`, one
/// lane each, for every input channel, from the tile's filters in `f32` laid out
/// `[9][in_channels][rows]`.
///
/// # Safety
/// Rows `row..row + R` of tile `tile` lie inside the buffer behind `out` (`COMPONENTS *
/// layout.component_len` floats), and no other thread writes or reads them meanwhile.
#[inline(always)]
unsafe fn transform_tile_lanes<const R: usize>(
    widened: &[f32],
    layout: &FilterLayout,
    tile: usize,
    row: usize,
    out: SharedFloats,
) {
    let (in_channels, rows) = (layout.in_channels, layout.rows);
    for channel in 0..in_channels {
        // Plain loops, not `array::from_fn`, which the compiler left uninlined here.
        let mut g = [[0.0f32; R]; 9];
        for (k, lanes) in g.iter_mut().enumerate() {
            lanes.copy_from_slice(&widened[(k * in_channels + channel) * rows + row..][..R]);
        }
        // h = G g (6x3), column by column, then u = h Gᵀ (6x6), row by row.
        let mut columns = [[[0.0f32; R]; PATCH]; 3];
        for (k, column) in columns.iter_mut().enumerate() {
            *column = g_times(&g[k], &g[3 + k], &g[6 + k]);
        }
        let at = layout.offset(tile, channel) + row;
        let [c0, c1, c2] = &columns;
        for (i, ((h0, h1), h2)) in c0.iter().zip(c1).zip(c2).enumerate() {
            let u = g_times(h0, h1, h2);
            for (j, u) in u.iter().enumerate() {
                // SAFETY: `R` floats from `at` of a component are this call's rows (see above).
                unsafe { out.write_lanes((PATCH * i + j) * layout.component_len + at, u) };
            }
        }
    }
}

/// `G` applied to three values (a column or a row of a filter), lane by lane.
#[inline(always)]
fn g_times<const R: usize>(g0: &[f32; R], g1: &[f32; R], g2: &[f32; R]) -> [[f32; R]; PATCH] {
    let mut u = [[0.0; R]; PATCH];
    for lane in 0..R {
        let (a, b, c) = (g0[lane], g1[lane], g2[lane]);
        let (outer, even, odd) = (a + c, a * (1.0 / 24.0) + c * (1.0 / 6.0), b * (1.0 / 12.0));
        u[0][lane] = a * 0.25;
        u[1][lane] = -(outer + b) * (1.0 / 6.0);
        u[2][lane] = -(outer - b) * (1.0 / 6.0);
        u[3][lane] = even + odd;
        u[4][lane] = even - odd;
        u[5][lane] = c;
    }
    u
}

/// `transformed`, written by the tiles of `transform_filters` in parallel.
#[derive(Clone, Copy)]
struct SharedFloats(*mut f32);
// SAFETY: the tiles write disjoint elements.
unsafe impl Send for SharedFloats {}
unsafe impl Sync for SharedFloats {}

impl SharedFloats {
    /// # Safety
    /// `at..at + R` is inside the buffer, and no other thread writes or reads it meanwhile.
    unsafe fn write_lanes<const R: usize>(&self, at: usize, values: &[f32; R]) {
        unsafe { self.0.add(at).cast::<[f32; R]>().write_unaligned(*values) }
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
    /// Six patch rows, each as its four phases (columns 4m, then 4m + 1, 4m + 2 and 4m + 3).
    split: Vec<f32>,
    /// `Bᵀ d` of those rows, in the same layout.
    combined: Vec<f32>,
    /// One input row, where it is resized as it is read.
    row: Vec<f32>,
    /// Four output rows of a run of tiles.
    pixels: Vec<f32>,
    /// `Aᵀ m` of a run of tiles (`[PATCH][TILE][tiles]`), then one output row of it
    /// (`[TILE][tiles]`): the output transform's two halves.
    halves: Vec<f32>,
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
            let Scratch { inputs, sums, split, combined, row, pixels, halves } = scratch;
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
            let run = self.tiling.across.min(self.tiles.1 - self.tiles.0);
            let pixels = at_least(pixels, TILE * TILE * run);
            let halves = at_least(halves, (PATCH + 1) * TILE * run);
            for row in 0..c1 - c0 {
                let b = bias.map_or(0.0, |b| b[c0 + row]);
                // SAFETY: channel `c0 + row` is in this task's block (see `run`).
                unsafe { self.write_outputs(sums, group, row, c0 + row, b, relu, pixels, halves, out) };
            }
        })
    }

    /// `Bᵀ d B` with `Bᵀ = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0;
    /// 0 2 -1 -2 1 0; 0 4 0 -5 0 1]`, for the 6x6 input patch `d` of every tile of the task and
    /// every input channel, into `inputs`.
    ///
    /// Computed a run of tiles at a time, as operations on whole slices that the compiler turns
    /// into vector instructions: the patch of tile `x` starts at padded column `4x` (image column
    /// `4x - 1`), so with each padded row split into its four phases (its columns `4m`, `4m + 1`,
    /// `4m + 2` and `4m + 3`), the patches' six columns are the four phases read from `x` and the
    /// first two read from `x + 1`.
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
        let phase = across + 1;
        let split = at_least(split, PATCH * TILE * phase);
        let combined = at_least(combined, PATCH * TILE * phase);
        let row_buffer = at_least(row_buffer, width);
        for (source, components) in channels.iter().zip(inputs.chunks_exact_mut(self.tiling.input_plane())) {
            for (tile_row, start, end) in self.tiling.rows_of(self.tiles) {
                // Patch row `a` is image row 4 * tile_row - 1 + a, zero outside the image.
                for (a, phases) in split.chunks_exact_mut(TILE * phase).enumerate() {
                    phases.fill(0.0);
                    let Some(y) = (TILE * tile_row + a).checked_sub(1).filter(|&y| y < height) else { continue };
                    let row = source.row(y, width, row_buffer);
                    // Padded column 4m + q is image column 4m + q - 1.
                    let [p0, p1, p2, p3] = parts_mut(phases);
                    let rest = row.chunks_exact(TILE).remainder();
                    phases::split(row, [&mut *p1, &mut *p2, &mut *p3, &mut p0[1..]]);
                    for (part, &value) in [p1, p2, p3].into_iter().zip(rest) {
                        part[width / TILE] = value;
                    }
                }
                let [d0, d1, d2, d3, d4, d5] = parts(split);
                let [w0, w1, w2, w3, w4, w5] = parts_mut(combined);
                for i in 0..TILE * phase {
                    [w0[i], w1[i], w2[i], w3[i], w4[i], w5[i]] = b_transposed(d0[i], d1[i], d2[i], d3[i], d4[i], d5[i]);
                }
                // The first tile's place in the task (a task may start within a row of tiles).
                let at = tile_row * across + start - self.tiles.0;
                let n = end - start;
                for (i, w) in combined.chunks_exact(TILE * phase).enumerate() {
                    let [q0, q1, q2, q3] = parts(w);
                    let (c0, c1, c2, c3) = (&q0[start..end], &q1[start..end], &q2[start..end], &q3[start..end]);
                    let (c4, c5) = (&q0[start + 1..end + 1], &q1[start + 1..end + 1]);
                    let out = &mut components[PATCH * i * stride..][..PATCH * stride];
                    b_transposed_runs([c0, c1, c2, c3, c4, c5], parts_mut(out).map(|v| &mut v[at..][..n]));
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

    /// `Aᵀ m A` with `Aᵀ = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]` for every
    /// tile of output channel `channel` (row `row` of a group of `group` in `sums`), plus `bias`,
    /// through the ReLU when `relu`, written where the tile lies in the output (the pixels past
    /// its edge are dropped). As in `transform_inputs`, a run of tiles at a time.
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
        halves: &mut [f32],
        out: SharedOut,
    ) {
        let (height, width) = (self.conv.height, self.conv.width);
        let stride = self.tiling.stride;
        let base = channel * out.spatial;
        let activate = |value: f32| if relu { maxima::relu(value + bias) } else { value + bias };
        for (tile_row, start, end) in self.tiling.rows_of(self.tiles) {
            let at = tile_row * self.tiling.across + start - self.tiles.0;
            let n = end - start;
            let m: [&[f32]; COMPONENTS] = core::array::from_fn(|k| &sums[k * (group * stride + SKEW) + row * stride + at..][..n]);
            let (am, output_row) = halves[..(PATCH + 1) * TILE * n].split_at_mut(PATCH * TILE * n);
            // t = Aᵀ m (4x6) for every tile, column j of t as four runs (one per row of t) ...
            for (j, t) in am.chunks_exact_mut(TILE * n).enumerate() {
                let [t0, t1, t2, t3] = parts_mut(t);
                let [m0, m1, m2, m3, m4, m5] = [m[j], m[6 + j], m[12 + j], m[18 + j], m[24 + j], m[30 + j]];
                for x in 0..n {
                    [t0[x], t1[x], t2[x], t3[x]] = a_transposed(m0[x], m1[x], m2[x], m3[x], m4[x], m5[x]);
                }
            }
            // ... then y = t A (4x4), a row of outputs at a time, as runs over the tiles that the
            // compiler vectorises (one tile at a time, the output transform took 13% of a native
            // pass at 1024, `perf`; this way 6%).
            let t = |j: usize, r: usize| &am[(j * TILE + r) * n..][..n];
            for (r, pixels) in pixels[..TILE * TILE * n].chunks_exact_mut(TILE * n).enumerate() {
                let [y0, y1, y2, y3] = parts_mut(&mut output_row[..TILE * n]);
                let (a0, a1, a2, a3, a4, a5) = (t(0, r), t(1, r), t(2, r), t(3, r), t(4, r), t(5, r));
                for x in 0..n {
                    [y0[x], y1[x], y2[x], y3[x]] = a_transposed(a0[x], a1[x], a2[x], a3[x], a4[x], a5[x]);
                }
                for (x, quad) in pixels.chunks_exact_mut(TILE).enumerate() {
                    quad.copy_from_slice(&[activate(y0[x]), activate(y1[x]), activate(y2[x]), activate(y3[x])]);
                }
            }
            let rows: [&[f32]; TILE] = parts(&pixels[..TILE * TILE * n]);
            let (y, x) = (TILE * tile_row, TILE * start);
            let columns = (TILE * n).min(width - x);
            for (i, pixels) in rows.iter().enumerate().take(height - y) {
                // SAFETY: row y + i < height and columns x..x + columns < width of `channel`, in
                // this task's block; `pixels` holds at least `columns` values.
                unsafe { core::ptr::copy_nonoverlapping(pixels.as_ptr(), out.ptr.add(base + (y + i) * width + x), columns) };
            }
        }
    }
}

/// `Bᵀ` applied to six values of a patch's column (or row).
#[inline(always)]
fn b_transposed(d0: f32, d1: f32, d2: f32, d3: f32, d4: f32, d5: f32) -> [f32; PATCH] {
    [
        4.0 * d0 - 5.0 * d2 + d4,
        d3 + d4 - 4.0 * (d1 + d2),
        d4 - d3 + 4.0 * (d1 - d2),
        d4 - d2 + 2.0 * (d3 - d1),
        d4 - d2 - 2.0 * (d3 - d1),
        4.0 * d1 - 5.0 * d3 + d5,
    ]
}

/// [`b_transposed`] of the runs `d` into the runs `v`, element by element (all of one length).
///
/// Four elements at a time as arrays, which the compiler turns into vector instructions without
/// checking at run time whether the twelve runs overlap: as a loop over the slices it kept a
/// scalar path for that, and the input transform spent most of its time there (`perf`).
#[inline(always)]
fn b_transposed_runs(d: [&[f32]; PATCH], mut v: [&mut [f32]; PATCH]) {
    const LANES: usize = 4;
    let n = v[0].len();
    let full = n / LANES * LANES;
    for x in (0..full).step_by(LANES) {
        let mut inputs = [[0.0f32; LANES]; PATCH];
        for (lanes, d) in inputs.iter_mut().zip(&d) {
            lanes.copy_from_slice(&d[x..x + LANES]);
        }
        let mut outputs = [[0.0f32; LANES]; PATCH];
        for lane in 0..LANES {
            let [d0, d1, d2, d3, d4, d5] = inputs.map(|lanes| lanes[lane]);
            for (k, value) in b_transposed(d0, d1, d2, d3, d4, d5).into_iter().enumerate() {
                outputs[k][lane] = value;
            }
        }
        for (v, lanes) in v.iter_mut().zip(&outputs) {
            v[x..x + LANES].copy_from_slice(lanes);
        }
    }
    let [d0, d1, d2, d3, d4, d5] = d;
    let [v0, v1, v2, v3, v4, v5] = v;
    for x in full..n {
        [v0[x], v1[x], v2[x], v3[x], v4[x], v5[x]] = b_transposed(d0[x], d1[x], d2[x], d3[x], d4[x], d5[x]);
    }
}

/// `Aᵀ` applied to six transformed values of a column (or row).
#[inline(always)]
fn a_transposed(m0: f32, m1: f32, m2: f32, m3: f32, m4: f32, m5: f32) -> [f32; TILE] {
    let (sum12, difference12, sum34, difference34) = (m1 + m2, m1 - m2, m3 + m4, m3 - m4);
    [m0 + sum12 + sum34, difference12 + 2.0 * difference34, sum12 + 4.0 * sum34, difference12 + 8.0 * difference34 + m5]
}

/// `values` cut into `N` equal parts.
fn parts<const N: usize>(values: &[f32]) -> [&[f32]; N] {
    let mut parts = values.chunks_exact((values.len() / N).max(1));
    core::array::from_fn(|_| parts.next().unwrap_or_default())
}

/// `values` cut into `N` equal parts, to write.
fn parts_mut<const N: usize>(values: &mut [f32]) -> [&mut [f32]; N] {
    let mut parts = values.chunks_exact_mut((values.len() / N).max(1));
    core::array::from_fn(|_| parts.next().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::super::Source;
    use super::super::reference::{assert_matches_the_definition, test_values};
    use super::*;

    /// Winograd's algorithm itself with every kernel this CPU has and `gemm`, even on shapes it
    /// would leave to the direct products.
    fn check(shape: SameConv) {
        assert_matches_the_definition(shape, |kernel, channels, weight, bias| {
            run(&shape, kernel, channels, weight, Some(bias), true)
        });
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
        // Every remainder of a 4x4 tile at the right and bottom edges.
        check(conv(12, 8, 7, 5));
        check(conv(12, 8, 2, 14));
        check(conv(40, 24, 13, 11));
        // Rows of more tiles than a task takes: tasks that start and end within a row.
        check(conv(8, 8, 9, 700));
    }

    #[test]
    fn small_maps_take_a_narrower_kernel_or_the_direct_products() {
        let conv = |size| SameConv { in_channels: 64, out_channels: 64, height: size, width: size, kernel: 3, dilation: 1 };
        for kernel in available().into_iter().map(Some).chain([None]) {
            assert!(applies(&conv(512), kernel), "{kernel:?}");
            assert!(!applies(&conv(2), kernel), "{kernel:?}");
            let chosen = kernel_for(&conv(16), kernel);
            assert!(chosen.is_none_or(|k| k.columns <= 16), "{kernel:?} -> {chosen:?}");
            // On a large map the given kernel stays.
            assert_eq!(kernel_for(&conv(512), kernel).map(|k| k.name), kernel.map(|k| k.name));
        }
    }

    #[test]
    fn wide_layers_transform_their_filters_a_batch_at_a_time() {
        let conv =
            |in_channels, out_channels| SameConv { in_channels, out_channels, height: 9, width: 13, kernel: 3, dilation: 1 };
        assert_eq!(filter_batch(&conv(1024, 512)), 128);
        assert_eq!(filter_batch(&conv(512, 512)), 256);
        assert!(filter_batch(&conv(64, 64)) >= 64);
        // Several batches, the last one short, give exactly what one batch of all gives.
        let wide = conv(2048, 150);
        assert_eq!(filter_batch(&wide), 128);
        let input = test_values(2048 * 9 * 13, 1);
        let weight = test_values(150 * 2048 * 9, 2);
        let bias = test_values(150, 3);
        let channels = Source::Same(&input).split(&wide);
        for kernel in available().into_iter().map(Some).chain([None]) {
            let batched = run(&wide, kernel, &channels, &weight, Some(&bias), true);
            let kernel = kernel_for(&wide, kernel);
            let whole = convolve(&wide, kernel, &Filters::new(&wide, &weight, kernel), &channels, Some(&bias), true);
            assert!(batched == whole, "{kernel:?}");
        }
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
