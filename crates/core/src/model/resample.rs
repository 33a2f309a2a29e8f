use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::tensor::Tensor;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};

/// The 2x2, stride 2 max pool of ISNet, in ceil mode as in the source graph.
pub fn pool() -> MaxPool2d {
    MaxPool2dConfig::new([2, 2]).with_ceil_mode(true).init()
}

/// DIS's `_upsample_like`: bilinear resize of `x` to the spatial size of `like`, with
/// half-pixel centres (`align_corners = false`; Burn's own default is `true`).
pub fn upsample_like(x: Tensor<4>, like: &Tensor<4>) -> Tensor<4> {
    let [_, _, height, width] = like.dims();
    upsample_to(x, [height, width])
}

pub fn upsample_to(x: Tensor<4>, size: [usize; 2]) -> Tensor<4> {
    let [_, _, height, width] = x.dims();
    if [height, width] == size {
        return x;
    }
    let options = InterpolateOptions::new(InterpolateMode::Bilinear)
        .with_align_corners(false)
        .with_output_size(size);
    interpolate(x, options)
}
