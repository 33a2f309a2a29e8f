//! A stride-1 "same" convolution as one matrix product per kernel tap, on plain `f32` slices.
//!
//! Why by hand: flex's general convolution copies the input to NHWC, builds an im2col buffer 9x
//! the input for every 3x3 layer, multiplies, transposes the result back to NCHW and then adds
//! the bias in another pass. On ISNet, where every layer is a 3x3 convolution at stride 1,
//! that bookkeeping costs about as much as the arithmetic. Here the input is copied once into a
//! zero-padded buffer; with the output computed on the padded width, the input seen by tap
//! `(ky, kx)` is that buffer read from one offset on, so each tap is a matrix product on the
//! buffer in place, accumulated into the output: by one of our register-tile kernels
//! ([`super::register_tiles`]: AVX-512, AVX2, WebAssembly SIMD), or by `gemm` (the crate flex
//! itself multiplies with) on other CPUs. The padded columns are dropped as the bias and the
//! ReLU are applied, in the same pass.

use std::mem::MaybeUninit;
use std::sync::Arc;

use super::register_tiles::{Operands, TileKernel, accumulate, fastest, pack_weights};
use crate::model::maxima;
use crate::model::resample::planes::{Tap, resize_row, taps};

/// Shape of one convolution: input `[in_channels, height, width]`, weight
/// `[out_channels, in_channels, kernel, kernel]`, "same" padding `dilation * (kernel - 1) / 2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SameConv {
    pub in_channels: usize,
    pub out_channels: usize,
    pub height: usize,
    pub width: usize,
    pub kernel: usize,
    pub dilation: usize,
}

/// One input of a convolution: channels at the convolution's size, or channels of another size
/// that are resized to it as they are read (bilinear, half-pixel centres: `model::resample`).
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// `[channels, height, width]` at the convolution's `height` and `width`.
    Same(&'a [f32]),
    /// `[channels, height, width]` of these `height` and `width`.
    Resized { planes: &'a [f32], height: usize, width: usize },
}

impl<'a> Source<'a> {
    /// How many channels it holds, for a convolution of `spatial` pixels per channel.
    fn channels(&self, spatial: usize) -> usize {
        match self {
            Self::Same(planes) => planes.len() / spatial,
            Self::Resized { planes, height, width } => planes.len() / (height * width),
        }
    }

    /// One [`ChannelSource`] per channel, for a convolution of shape `conv`.
    pub(super) fn split(&self, conv: &SameConv) -> Vec<ChannelSource<'a>> {
        match *self {
            Self::Same(planes) => planes.chunks_exact(conv.height * conv.width).map(ChannelSource::Same).collect(),
            Self::Resized { planes, height, width } => {
                let (rows, columns) = (Arc::new(taps(height, conv.height)), Arc::new(taps(width, conv.width)));
                planes
                    .chunks_exact(height * width)
                    .map(|plane| ChannelSource::Resized { plane, width, rows: rows.clone(), columns: columns.clone() })
                    .collect()
            }
        }
    }
}

/// One channel of a [`Source`].
pub(super) enum ChannelSource<'a> {
    Same(&'a [f32]),
    /// A plane `width` wide, and the taps that resize its rows and columns.
    Resized {
        plane: &'a [f32],
        width: usize,
        rows: Arc<Vec<Tap>>,
        columns: Arc<Vec<Tap>>,
    },
}

impl ChannelSource<'_> {
    /// Row `y` of the channel at the convolution's `width`: read where it is, or resized into
    /// `buffer` (`width` long).
    pub(super) fn row<'s>(&'s self, y: usize, width: usize, buffer: &'s mut [f32]) -> &'s [f32] {
        match self {
            Self::Same(plane) => &plane[y * width..][..width],
            Self::Resized { plane, width: source_width, rows, columns } => {
                resize_row(plane, *source_width, rows[y], columns, buffer);
                buffer
            }
        }
    }
}

/// Output columns per task: enough work per `gemm` call to amortise its packing, small enough
/// that one task's output block stays in L2 across the taps and that the threads share the work.
const COLUMNS_PER_TASK: usize = 1024;
/// Output channels per task: splits the deep layers (few columns, many channels) across threads.
const CHANNELS_PER_TASK: usize = 64;
/// Padded input per band of rows (see `band_rows`): a few MB, so the band also stays in cache.
const BAND_BYTES: usize = 8 << 20;
/// At least this many rows per band, so that the rows read around a band (up to 16 at ISNet's
/// dilation of 8) stay a small part of it.
const MIN_BAND_ROWS: usize = 16;

impl SameConv {
    fn pad(&self) -> usize {
        self.dilation * (self.kernel - 1) / 2
    }

    fn padded_width(&self) -> usize {
        self.width + 2 * self.pad()
    }

    fn padded_plane(&self) -> usize {
        (self.height + 2 * self.pad()) * self.padded_width()
    }

    /// Columns of the output on the padded width, up to the last real pixel: `(h - 1) * wp + w`.
    /// Ending there keeps every tap's reads inside its channel's padded plane.
    fn columns(&self) -> usize {
        (self.height - 1) * self.padded_width() + self.width
    }

    /// True when the shape is one this kernel computes (odd kernel, non-empty tensors).
    pub fn is_supported(&self) -> bool {
        self.kernel % 2 == 1
            && self.dilation >= 1
            && self.in_channels > 0
            && self.out_channels > 0
            && self.height > 0
            && self.width > 0
    }

    /// `out = relu?(conv(input, weight) + bias)`, all row-major NCHW for one image.
    ///
    /// `input.len() == in_channels * height * width`, `weight.len() == out_channels *
    /// in_channels * kernel * kernel`, `bias.len() == out_channels`; the caller checks them.
    pub fn run(&self, input: &[f32], weight: &[f32], bias: Option<&[f32]>, relu: bool) -> Vec<f32> {
        self.run_concatenated(&[input], weight, bias, relu)
    }

    /// As [`Self::run`] on the channel concatenation of `parts` (each `[channels, height,
    /// width]`), without building it: the parts are copied straight into the padded input.
    pub fn run_concatenated<W: WeightValue>(&self, parts: &[&[f32]], weight: &[W], bias: Option<&[f32]>, relu: bool) -> Vec<f32> {
        let sources: Vec<Source> = parts.iter().map(|part| Source::Same(part)).collect();
        self.run_sources(&sources, weight, bias, relu)
    }

    /// As [`Self::run`] on the channel concatenation of `sources`, each read into the padded
    /// input as it is needed, resized where it is [`Source::Resized`]. ISNet's decoders convolve
    /// the concatenation of an upsampled map and a skip connection, up to 128 channels at
    /// 512x512: neither the upsampled map nor the concatenation is ever allocated.
    ///
    /// The weights may be `f32` or `f16` (the CPU engine keeps ISNet's in f16, as stored: half the
    /// memory); they are widened to `f32` as they are packed for the kernel, and every product and
    /// sum is in `f32`.
    pub fn run_sources<W: WeightValue>(&self, sources: &[Source], weight: &[W], bias: Option<&[f32]>, relu: bool) -> Vec<f32> {
        self.run_with(fastest(), sources, weight, bias, relu)
    }

    /// As [`Self::run_sources`] with a given kernel (`None`: `gemm`), for tests and benchmarks
    /// that compare them: by Winograd's algorithm where [`super::winograd`] applies (on the
    /// subgrids of a dilated convolution where [`super::subgrids`] does), directly otherwise.
    #[doc(hidden)]
    pub fn run_with<W: WeightValue>(
        &self,
        kernel: Option<TileKernel>,
        sources: &[Source],
        weight: &[W],
        bias: Option<&[f32]>,
        relu: bool,
    ) -> Vec<f32> {
        let winograd = super::winograd::applies(self, kernel);
        if winograd || super::subgrids::applies(self, kernel) {
            let channels: Vec<ChannelSource> = sources.iter().flat_map(|source| source.split(self)).collect();
            return match winograd {
                true => super::winograd::run(self, kernel, &channels, weight, bias, relu),
                false => super::subgrids::run(self, kernel, &channels, weight, bias, relu),
            };
        }
        self.run_direct_with(kernel, sources, weight, bias, relu)
    }

    /// As [`Self::run_with`], always one matrix product per tap.
    #[doc(hidden)]
    pub fn run_direct_with<W: WeightValue>(
        &self,
        kernel: Option<TileKernel>,
        sources: &[Source],
        weight: &[W],
        bias: Option<&[f32]>,
        relu: bool,
    ) -> Vec<f32> {
        debug_assert!(self.is_supported());
        debug_assert_eq!(sources.iter().map(|s| s.channels(self.height * self.width)).sum::<usize>(), self.in_channels);
        debug_assert_eq!(weight.len(), self.out_channels * self.in_channels * self.kernel * self.kernel);
        let weight = &Weights::new(self, weight, kernel);
        let channels: Vec<ChannelSource> = sources.iter().flat_map(|source| source.split(self)).collect();
        // Not zeroed first: the tasks write every element (as in `winograd::convolve`).
        let len = self.out_channels * self.height * self.width;
        let mut output = Vec::<f32>::with_capacity(len);
        let rows = self.band_rows();
        for first_row in (0..self.height).step_by(rows) {
            let band = SameConv { height: rows.min(self.height - first_row), ..*self };
            let padded = self.pad_rows(&channels, first_row, band.height);
            let out = SharedOut { ptr: output.as_mut_ptr(), spatial: self.height * self.width, first_row };
            let run_task = |&(channels, columns): &(Range, Range)| {
                // SAFETY: tasks cover disjoint (channel, column) blocks of the band, and bands
                // disjoint rows, so each output element is written by exactly one task.
                unsafe { band.run_task(&padded, weight, bias, relu, channels, columns, out) }
            };
            let tasks = band.tasks();
            #[cfg(feature = "rayon")]
            {
                use rayon::prelude::*;
                tasks.par_iter().for_each(run_task);
            }
            #[cfg(not(feature = "rayon"))]
            tasks.iter().for_each(run_task);
        }
        // SAFETY: the bands cover every row, and each band's tasks every (channel, column) of it
        // once (`tasks`), each writing all of its block (`run_task`).
        unsafe { output.set_len(len) };
        output
    }

    /// Output rows per band: the padded input is built for one band of rows at a time (with the
    /// rows around it that its taps read), about `BAND_BYTES` of it. The whole padded input of a
    /// decoder layer at 512x512 would be 135 MB, and in WebAssembly, whose memory never shrinks,
    /// that would stay the worker's size for good.
    fn band_rows(&self) -> usize {
        let row_bytes = self.in_channels * self.padded_width() * size_of::<f32>();
        (BAND_BYTES / row_bytes).max(MIN_BAND_ROWS).min(self.height)
    }

    /// The input rows `first_row - pad .. first_row + rows + pad` of every channel, zero outside
    /// the image, each row with `pad` zeros either side: `[in_channels, rows + 2 * pad, wp]`, then
    /// `PADDED_TAIL` zeros.
    fn pad_rows(&self, channels: &[ChannelSource], first_row: usize, rows: usize) -> Vec<f32> {
        let (pad, wp) = (self.pad(), self.padded_width());
        let plane = (rows + 2 * pad) * wp;
        // The tail lets the kernels read whole register tiles past the last column.
        let len = self.in_channels * plane;
        assert_eq!(channels.len(), self.in_channels, "one source per input channel");
        let mut padded = Vec::<f32>::with_capacity(len + PADDED_TAIL);
        // Image rows in the band with its halo, and where the first lands in the band.
        let (from, to) = (first_row.saturating_sub(pad), (first_row + rows + pad).min(self.height));
        let pad_channel = |(source, dst): (&ChannelSource, &mut [MaybeUninit<f32>])| {
            let dst = zeroed(dst);
            for y in from..to {
                let start = (y + pad - first_row) * wp + pad;
                let row = &mut dst[start..start + self.width];
                match source {
                    ChannelSource::Same(src) => row.copy_from_slice(&src[y * self.width..][..self.width]),
                    resized => _ = resized.row(y, self.width, row),
                }
            }
        };
        let spare = padded.spare_capacity_mut();
        spare[len..len + PADDED_TAIL].fill(MaybeUninit::new(0.0));
        #[cfg(feature = "rayon")]
        {
            use rayon::prelude::*;
            channels.par_iter().zip(spare[..len].par_chunks_exact_mut(plane)).for_each(pad_channel);
        }
        #[cfg(not(feature = "rayon"))]
        channels.iter().zip(spare[..len].chunks_exact_mut(plane)).for_each(pad_channel);
        // SAFETY: `pad_channel` initialised each channel's plane, and the tail is zeroed above.
        unsafe { padded.set_len(len + PADDED_TAIL) };
        padded
    }

    fn tasks(&self) -> Vec<(Range, Range)> {
        let columns = self.columns();
        let split = |len: usize, step: usize| (0..len.div_ceil(step)).map(move |i| (i * step, ((i + 1) * step).min(len)));
        split(self.out_channels, CHANNELS_PER_TASK)
            .flat_map(|channels| split(columns, COLUMNS_PER_TASK).map(move |cols| (channels, cols)))
            .collect()
    }

    /// One block of output channels by one block of padded-width columns of a band (`self` is
    /// the band): accumulate every tap into a scratch block, then write its real pixels with
    /// bias and ReLU.
    #[allow(clippy::too_many_arguments)]
    unsafe fn run_task(
        &self,
        padded: &[f32],
        weight: &Weights,
        bias: Option<&[f32]>,
        relu: bool,
        (c0, c1): Range,
        (n0, n1): Range,
        out: SharedOut,
    ) {
        let (block, stride) = self.tap_products(padded, weight, (c0, c1), (n0, n1));
        let wp = self.padded_width();
        for (row, channel) in block.chunks_exact(stride).zip(c0..c1) {
            let b = bias.map_or(0.0, |b| b[channel]);
            // The image rows this block touches; the padded columns between them are dropped.
            for y in n0 / wp..=(n1 - 1) / wp {
                let (first, last) = ((y * wp).max(n0), (y * wp + self.width).min(n1));
                if first >= last {
                    continue;
                }
                let dst = channel * out.spatial + (out.first_row + y) * self.width + (first - y * wp);
                for (i, &v) in row[first - n0..last - n0].iter().enumerate() {
                    let v = v + b;
                    // SAFETY: (channel, y, x) is inside the output, in this task's block.
                    unsafe { *out.ptr.add(dst + i) = if relu { maxima::relu(v) } else { v } };
                }
            }
        }
    }
}

/// `block` zeroed, to be filled: for a buffer that the threads filling it zero a block each.
/// Zeroed all at once first, such a buffer was work for one thread while the others waited (and,
/// in a browser worker's first pass, the first touch of fresh memory, on that one thread).
pub(super) fn zeroed(block: &mut [MaybeUninit<f32>]) -> &mut [f32] {
    block.fill(MaybeUninit::new(0.0));
    // SAFETY: every element was just initialised, and `f32` has the layout of `MaybeUninit<f32>`.
    unsafe { &mut *(core::ptr::from_mut(block) as *mut [f32]) }
}

/// Floats past the last padded plane, for reads of whole register tiles (up to 47 floats past a
/// block's last column with the AVX-512 kernel).
const PADDED_TAIL: usize = 64;

/// A weight's type: `f32`, or `f16` widened exactly to `f32`.
pub trait WeightValue: Copy + Send + Sync {
    fn widen(self) -> f32;
}

impl WeightValue for f32 {
    fn widen(self) -> f32 {
        self
    }
}

impl WeightValue for burn::tensor::f16 {
    /// Written by hand: `half`'s own conversion branches on the kind of number (and, on x86,
    /// checks the CPU for F16C on every call), and every pass widens all 44 M weights as it packs
    /// them, which took a quarter of a second in WebAssembly. This one has no branch the compiler
    /// cannot turn into a select, so it vectorises: the half's exponent and mantissa shifted into
    /// an `f32`'s place make that `f32` the value times 2^-112 (exactly, subnormals included),
    /// and one multiplication by 2^112 rebiases it. Infinities and NaNs keep all-ones exponents.
    #[inline]
    fn widen(self) -> f32 {
        const TWO_POW_112: f32 = f32::from_bits((127 + 112) << 23);
        let bits = u32::from(self.to_bits());
        let magnitude = (bits & 0x7fff) << 13;
        let value =
            if magnitude >= 0x7c00 << 13 { magnitude | 0x7f80_0000 } else { (f32::from_bits(magnitude) * TWO_POW_112).to_bits() };
        f32::from_bits(value | (bits & 0x8000) << 16)
    }
}

/// `values` in `f32`.
pub fn widen_all<W: WeightValue>(values: &[W]) -> Vec<f32> {
    values.iter().map(|v| v.widen()).collect()
}

/// The layer's weights in `f32`, as the tap products read them.
enum Weights {
    /// `[out_channels, in_channels, kernel, kernel]`: what `gemm` reads.
    Raw(Vec<f32>),
    /// `[out_channels, in_channels, kernel, kernel]`, for [`SameConv::row_products`].
    Rows(Vec<f32>),
    /// Packed for a register-tile kernel.
    Tiles(TileKernel, Vec<f32>),
}

impl Weights {
    fn new<W: WeightValue>(conv: &SameConv, raw: &[W], kernel: Option<TileKernel>) -> Self {
        let taps = conv.kernel * conv.kernel;
        match kernel {
            Some(kernel) if conv.out_channels >= kernel.rows => {
                Self::Tiles(kernel, pack_weights(raw, conv.out_channels, conv.in_channels, taps, kernel.rows))
            }
            // Fewer output channels than a tile has rows (ISNet's 1-channel head) would leave
            // most of each tile's work unused.
            Some(_) => Self::Rows(widen_all(raw)),
            None => Self::Raw(widen_all(raw)),
        }
    }
}

impl SameConv {
    /// Offset of each tap in the padded input, relative to the output column.
    fn tap_offsets(&self) -> Vec<usize> {
        let wp = self.padded_width();
        (0..self.kernel * self.kernel)
            .map(|tap| (tap / self.kernel) * self.dilation * wp + (tap % self.kernel) * self.dilation)
            .collect()
    }

    /// The sum over taps of `weight[.., .., tap] x padded shifted by the tap`, for output channels
    /// `c0..c1` and padded-width columns `n0..n1`: a block and its row stride.
    fn tap_products(&self, padded: &[f32], weight: &Weights, channels: Range, columns: Range) -> (Vec<f32>, usize) {
        match weight {
            Weights::Tiles(kernel, packed) => self.tile_products(kernel, packed, padded, channels, columns),
            Weights::Raw(raw) => self.gemm_products(padded, raw, channels, columns),
            Weights::Rows(raw) => self.row_products(padded, raw, channels, columns),
        }
    }

    /// For a few output channels: each output row accumulated one input channel and tap at a
    /// time, a loop the compiler vectorises. Why not `gemm`, as before: for ISNet's head (64
    /// channels in, 1 out) it was the only layer `gemm` computed on the CPUs that have our
    /// register tiles, and in the browser the first photo after a start paid V8's compiling of
    /// `gemm` and its packing (about 40 ms on a 2-core machine), and ran it unoptimised meanwhile.
    fn row_products(&self, padded: &[f32], weight: &[f32], (c0, c1): Range, (n0, n1): Range) -> (Vec<f32>, usize) {
        let (n, taps, plane) = (n1 - n0, self.kernel * self.kernel, self.padded_plane());
        let tap_offsets = self.tap_offsets();
        let mut block = vec![0.0f32; (c1 - c0) * n];
        for (row, filter) in block.chunks_exact_mut(n).zip(weight.chunks_exact(self.in_channels * taps).skip(c0)) {
            for (channel, filter) in padded.chunks(plane).zip(filter.chunks_exact(taps)) {
                for (&w, &offset) in filter.iter().zip(&tap_offsets) {
                    // In bounds: see `columns`.
                    for (value, &x) in row.iter_mut().zip(&channel[n0 + offset..][..n]) {
                        *value += w * x;
                    }
                }
            }
        }
        (block, n)
    }

    /// With `gemm`: one matrix product per tap, accumulated.
    fn gemm_products(&self, padded: &[f32], weight: &[f32], (c0, c1): Range, (n0, n1): Range) -> (Vec<f32>, usize) {
        let (m, n, k) = (c1 - c0, n1 - n0, self.in_channels);
        let taps = self.kernel * self.kernel;
        let mut block = vec![0.0f32; m * n];
        for (tap, offset) in self.tap_offsets().into_iter().enumerate() {
            // lhs[co, ci] = weight[co, ci, tap]; rhs[ci, j] = padded[ci, n0 + offset + j].
            // The reads stay in bounds: see `columns`.
            unsafe {
                gemm::gemm(
                    m,
                    n,
                    k,
                    block.as_mut_ptr(),
                    1,
                    n as isize,
                    tap > 0,
                    weight.as_ptr().add(c0 * k * taps + tap),
                    taps as isize,
                    (k * taps) as isize,
                    padded.as_ptr().add(n0 + offset),
                    1,
                    self.padded_plane() as isize,
                    1.0,
                    1.0,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
        }
        (block, n)
    }

    /// With a register-tile kernel; rows and columns are rounded up to its tile, and the extra
    /// ones are never written out.
    fn tile_products(
        &self,
        kernel: &TileKernel,
        packed: &[f32],
        padded: &[f32],
        (c0, c1): Range,
        (n0, n1): Range,
    ) -> (Vec<f32>, usize) {
        debug_assert_eq!(c0 % kernel.rows, 0);
        let tiles = (c1 - c0).div_ceil(kernel.rows);
        let stride = (n1 - n0).div_ceil(kernel.columns) * kernel.columns;
        let mut block = vec![0.0f32; tiles * kernel.rows * stride];
        let tap_offsets = self.tap_offsets();
        let ops =
            Operands { packed, in_channels: self.in_channels, tap_offsets: &tap_offsets, padded, plane: self.padded_plane() };
        accumulate(kernel, &ops, &mut block, c0 / kernel.rows, tiles, n0, stride, false);
        (block, stride)
    }
}

pub(super) type Range = (usize, usize);

/// The whole output, written by every task of every band.
#[derive(Clone, Copy)]
pub(super) struct SharedOut {
    pub ptr: *mut f32,
    /// Pixels per output channel (the whole image's).
    pub spatial: usize,
    /// The image row the band starts at.
    pub first_row: usize,
}
// SAFETY: tasks write disjoint elements (see `run`).
unsafe impl Send for SharedOut {}
unsafe impl Sync for SharedOut {}

#[cfg(test)]
mod tests {
    use super::super::reference::{test_values, worst_difference, worst_direct_difference};
    use super::super::register_tiles::available;
    use super::*;

    #[test]
    fn f16_widens_exactly_for_every_bit_pattern() {
        for bits in 0..=u16::MAX {
            let half = burn::tensor::f16::from_bits(bits);
            let (ours, theirs) = (half.widen(), half.to_f32());
            if theirs.is_nan() {
                assert!(ours.is_nan(), "{bits:#06x}");
                assert_eq!(ours.is_sign_negative(), theirs.is_sign_negative(), "{bits:#06x}");
            } else {
                assert_eq!(ours.to_bits(), theirs.to_bits(), "{bits:#06x}: {ours} != {theirs}");
            }
        }
    }

    /// Every kernel this CPU has, and `gemm`, by the products per tap and by the path the
    /// engine takes (Winograd's algorithm where it applies).
    fn check(shape: SameConv, relu: bool) {
        let kernels = available().into_iter().map(Some).chain([None]);
        for kernel in kernels {
            let worst = worst_direct_difference(shape, relu, kernel).max(worst_difference(shape, relu, kernel));
            assert!(worst < 1e-4, "{shape:?} with {kernel:?}: max abs difference {worst}");
        }
    }

    #[test]
    fn matches_the_definition_on_isnet_shapes() {
        let conv = |in_channels, out_channels, height, width, dilation| SameConv {
            in_channels,
            out_channels,
            height,
            width,
            kernel: 3,
            dilation,
        };
        check(conv(16, 8, 37, 45, 1), true);
        check(conv(8, 80, 20, 33, 2), false);
        check(conv(12, 70, 16, 16, 8), true);
        check(conv(3, 1, 1, 1, 1), false);
        check(conv(5, 130, 9, 70, 4), true);
        // The head (1 channel out) and others with fewer output channels than a tile's rows.
        check(conv(64, 1, 24, 40, 1), false);
        check(conv(9, 3, 11, 70, 2), true);
    }

    #[test]
    fn bands_of_rows_meet_without_seams() {
        // 64 channels of 1000 (+4) floats: 32 rows per band, so three bands (32, 32, 6), each
        // reading two rows of its neighbours (dilation 2).
        let shape = SameConv { in_channels: 64, out_channels: 8, height: 70, width: 1000, kernel: 3, dilation: 2 };
        assert_eq!(shape.band_rows(), 32);
        check(shape, true);
    }

    #[test]
    fn concatenated_parts_are_the_concatenation() {
        let shape = SameConv { in_channels: 7, out_channels: 5, height: 9, width: 11, kernel: 3, dilation: 1 };
        let input = test_values(7 * 9 * 11, 4);
        let weight = test_values(5 * 7 * 9, 5);
        let (a, b) = input.split_at(3 * 9 * 11);
        assert_eq!(shape.run_concatenated(&[a, b], &weight, None, true), shape.run(&input, &weight, None, true));
    }

    #[test]
    fn a_resized_source_is_the_convolution_of_the_resized_channels() {
        // 3 channels of 5x6 upsampled to 9x11, then 2 channels at 9x11.
        let shape = SameConv { in_channels: 5, out_channels: 6, height: 9, width: 11, kernel: 3, dilation: 1 };
        let small = test_values(3 * 5 * 6, 8);
        let skip = test_values(2 * 9 * 11, 9);
        let weight = test_values(6 * 5 * 9, 10);
        let resized = crate::model::resample::planes::bilinear(&small, 3, [5, 6], [9, 11]);
        let sources = [Source::Resized { planes: &small, height: 5, width: 6 }, Source::Same(&skip)];
        for kernel in available().into_iter().map(Some).chain([None]) {
            let fused = shape.run_with(kernel, &sources, &weight, None, true);
            let unfused = shape.run_with(kernel, &[Source::Same(&resized), Source::Same(&skip)], &weight, None, true);
            assert_eq!(fused, unfused, "{kernel:?}");
        }
    }

    #[test]
    fn matches_the_definition_for_other_odd_kernels() {
        for (kernel, dilation, relu) in [(1, 1, false), (5, 2, true)] {
            check(SameConv { in_channels: 4, out_channels: 6, height: 11, width: 13, kernel, dilation }, relu);
        }
    }
}
