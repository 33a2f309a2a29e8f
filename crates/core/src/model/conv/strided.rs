//! A 3x3 convolution at stride 2 (ISNet's first layer) as a 1x1 convolution of its taps: for each
//! input channel and tap, the plane of the pixels that tap reads for each output pixel (rows
//! `2y + ky - 1`, columns `2x + kx - 1`, zero outside the input), so that [`SameConv`]'s
//! register-tile kernels compute it as one matrix product.
//!
//! Why: flex's general convolution was the last layer it ran on the CPU engine, and in the
//! browser the first photo after a start paid for it twice: V8 compiled flex's convolution,
//! `gemm` and its packing (about 60 ms of optimising compiles beside the other layers' code) for
//! this one layer, and ran them in baseline code meanwhile, at the start of the pass. With 3 input
//! channels the taps' planes are 27 at a quarter of the input's pixels each (28 MB at 1024), a
//! small copy next to the products. (As a stride-1 3x3 convolution on the input's four phases it
//! took Winograd's path and was slower: 12 input channels are too few for its transforms to pay.)

use std::mem::MaybeUninit;

use super::shifted_gemm::{SameConv, Source, WeightValue, zeroed};

/// A 3x3 convolution at stride 2 with a padding of 1 on every side: input `[in_channels,
/// height, width]`, output `[out_channels, ceil(height / 2), ceil(width / 2)]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StridedConv {
    pub in_channels: usize,
    pub out_channels: usize,
    pub height: usize,
    pub width: usize,
}

impl StridedConv {
    /// Output rows and columns.
    pub fn output_size(&self) -> [usize; 2] {
        [self.height.div_ceil(2), self.width.div_ceil(2)]
    }

    /// The 1x1 convolution of the taps' planes that computes this one.
    pub fn on_taps(&self) -> SameConv {
        let [height, width] = self.output_size();
        SameConv { in_channels: 9 * self.in_channels, out_channels: self.out_channels, height, width, kernel: 1, dilation: 1 }
    }

    /// True when the shape is one this computes (non-empty tensors).
    pub fn is_supported(&self) -> bool {
        self.on_taps().is_supported()
    }

    /// `relu?(conv(input, weight) + bias)`, `[out_channels, ceil(height / 2), ceil(width / 2)]`,
    /// for one image. `input.len() == in_channels * height * width`, `weight.len() ==
    /// out_channels * in_channels * 9` (the 1x1 convolution's weights as they are), `bias.len()
    /// == out_channels`; the caller checks them.
    pub fn run<W: WeightValue>(&self, input: &[f32], weight: &[W], bias: Option<&[f32]>, relu: bool) -> Vec<f32> {
        self.on_taps().run_sources(&[Source::Same(&self.tap_planes(input))], weight, bias, relu)
    }

    /// `[in_channels * 9, ceil(height / 2), ceil(width / 2)]`: plane `9c + 3ky + kx` holds, for
    /// each output pixel `(y, x)`, input pixel `(2y + ky - 1, 2x + kx - 1)` of channel `c`, or
    /// zero where that is outside the input.
    fn tap_planes(&self, input: &[f32]) -> Vec<f32> {
        let (height, width) = (self.height, self.width);
        let [rows, columns] = self.output_size();
        // Each plane zeroed by the thread that fills it (see `zeroed`).
        let len = 9 * self.in_channels * rows * columns;
        let mut planes = Vec::<f32>::with_capacity(len);
        let fill = |(index, plane): (usize, &mut [MaybeUninit<f32>])| {
            let (channel, ky, kx) = (index / 9, index / 3 % 3, index % 3);
            let source = &input[channel * height * width..][..height * width];
            for (y, row) in zeroed(plane).chunks_exact_mut(columns).enumerate() {
                let Some(source_y) = (2 * y + ky).checked_sub(1).filter(|&sy| sy < height) else { continue };
                let source_row = &source[source_y * width..][..width];
                // Column x reads 2x + kx - 1: for kx = 0 the first one is padding.
                let (skip, first) = if kx == 0 { (1, 1) } else { (0, kx - 1) };
                for (value, &pixel) in row[skip..].iter_mut().zip(source_row[first..].iter().step_by(2)) {
                    *value = pixel;
                }
            }
        };
        let spare = &mut planes.spare_capacity_mut()[..len];
        #[cfg(feature = "rayon")]
        {
            use rayon::prelude::*;
            spare.par_chunks_exact_mut(rows * columns).enumerate().for_each(fill);
        }
        #[cfg(not(feature = "rayon"))]
        spare.chunks_exact_mut(rows * columns).enumerate().for_each(fill);
        // SAFETY: `fill` zeroed every plane.
        unsafe { planes.set_len(len) };
        planes
    }
}

#[cfg(test)]
mod tests {
    use burn::module::Param;
    use burn::nn::PaddingConfig2d;
    use burn::nn::conv::Conv2dConfig;
    use burn::tensor::{Device, Tensor, TensorData};

    use super::*;
    use crate::model::conv_reference::test_values;

    /// Burn's own stride-2 convolution (flex's general one), the definition this is held to.
    fn burn_conv(shape: StridedConv, input: &[f32], weight: &[f32], bias: &[f32]) -> Vec<f32> {
        let device = Device::flex();
        let mut conv = Conv2dConfig::new([shape.in_channels, shape.out_channels], [3, 3])
            .with_stride([2, 2])
            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
            .init(&device);
        let dims = [shape.out_channels, shape.in_channels, 3, 3];
        conv.weight = Param::from_tensor(Tensor::from_data(TensorData::new(weight.to_vec(), dims), &device));
        conv.bias = Some(Param::from_tensor(Tensor::from_data(TensorData::new(bias.to_vec(), [shape.out_channels]), &device)));
        let x = Tensor::from_data(TensorData::new(input.to_vec(), [1, shape.in_channels, shape.height, shape.width]), &device);
        conv.forward(x).into_data().try_into_vec::<f32>().unwrap()
    }

    fn worst_difference(shape: StridedConv) -> f32 {
        let input = test_values(shape.in_channels * shape.height * shape.width, 1);
        let weight = test_values(shape.out_channels * shape.in_channels * 9, 2);
        let bias = test_values(shape.out_channels, 3);
        let ours = shape.run(&input, &weight, Some(&bias), false);
        let theirs = burn_conv(shape, &input, &weight, &bias);
        assert_eq!(ours.len(), theirs.len(), "{shape:?}");
        ours.iter().zip(&theirs).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max)
    }

    /// Even and odd sizes (the last output row or column then reads padding), down to 1x1.
    #[test]
    fn matches_burns_strided_convolution() {
        for (height, width) in [(1, 1), (2, 3), (5, 4), (7, 9), (16, 16), (33, 18), (64, 64)] {
            for (in_channels, out_channels) in [(1, 1), (3, 8), (3, 64)] {
                let shape = StridedConv { in_channels, out_channels, height, width };
                let worst = worst_difference(shape);
                assert!(worst < 1e-4, "{shape:?}: {worst}");
            }
        }
    }

    #[test]
    fn applies_the_relu_and_takes_f16_weights() {
        let shape = StridedConv { in_channels: 3, out_channels: 16, height: 20, width: 22 };
        let input = test_values(3 * 20 * 22, 4);
        let weight: Vec<f32> = test_values(16 * 3 * 9, 5);
        let halves: Vec<burn::tensor::f16> = weight.iter().map(|&w| burn::tensor::f16::from_f32(w)).collect();
        let widened: Vec<f32> = halves.iter().map(|h| h.to_f32()).collect();
        let plain = shape.run(&input, &widened, None, false);
        let relu = shape.run(&input, &halves, None, true);
        assert!(plain.iter().any(|&v| v < 0.0));
        for (p, r) in plain.iter().zip(&relu) {
            assert_eq!(*r, p.max(0.0));
        }
    }
}
