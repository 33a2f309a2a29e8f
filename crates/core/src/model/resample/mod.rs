//! ISNet's resampling: the 2x2 max pool between encoder levels and the bilinear upsampling in
//! every decoder. Burn's `MaxPool2d` and `interpolate` on every engine, with a faster path on
//! the CPU engine ([`planes`]), as for the convolutions.

pub(crate) mod planes;

use burn::backend::Flex;
use burn::nn::pool::MaxPool2dConfig;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use burn::tensor::{DType, Tensor, TensorData, activation::sigmoid};

/// The 2x2, stride 2 max pool of ISNet, in ceil mode as in the source graph.
pub fn pool(x: Tensor<4>) -> Tensor<4> {
    if let Some(out) = on_flex(&x, |planes, [channels, height, width]| {
        let out = planes::max_pool_2x2_ceil(planes, channels, height, width);
        (out, [height.div_ceil(2), width.div_ceil(2)])
    }) {
        return out;
    }
    MaxPool2dConfig::new([2, 2]).with_ceil_mode(true).init().forward(x)
}

/// DIS's `_upsample_like`: bilinear resize of `x` to `size`, with half-pixel centres
/// (`align_corners = false`; Burn's own default is `true`).
pub fn upsample_to(x: Tensor<4>, size: [usize; 2]) -> Tensor<4> {
    let [_, _, height, width] = x.dims();
    if [height, width] == size {
        return x;
    }
    if let Some(out) =
        on_flex(&x, |planes, [channels, height, width]| (planes::bilinear(planes, channels, [height, width], size), size))
    {
        return out;
    }
    let options = InterpolateOptions::new(InterpolateMode::Bilinear).with_align_corners(false).with_output_size(size);
    interpolate(x, options)
}

/// ISNet's last step, `sigmoid(upsample_to(x, size))`: on the CPU engine in one pass over the
/// output. Why not Burn's `sigmoid` there: flex's is one function for every float type and
/// layout (15 KB of WebAssembly), which V8 compiled for the first photo after a start for this
/// one use, and it read the mask a second time.
pub fn sigmoid_of_upsampled(x: Tensor<4>, size: [usize; 2]) -> Tensor<4> {
    let mask = |planes: &[f32], [channels, height, width]: [usize; 3]| {
        (planes::sigmoid_of_bilinear(planes, channels, [height, width], size), size)
    };
    on_flex(&x, mask).unwrap_or_else(|| sigmoid(upsample_to(x, size)))
}

/// Runs `op` on the f32 planes of `x` (`[channels, height, width]` per image) when `x` is on the
/// CPU engine, and gives back a tensor of its output planes and their size.
fn on_flex(x: &Tensor<4>, op: impl Fn(&[f32], [usize; 3]) -> (Vec<f32>, [usize; 2])) -> Option<Tensor<4>> {
    let [batch, channels, height, width] = x.dims();
    if x.dtype() != DType::F32 || batch == 0 || channels * height * width == 0 {
        return None;
    }
    let device = x.device();
    let input = super::conv::in_order(x.clone().try_into_primitive::<Flex>().ok()?);
    let per_image = channels * height * width;
    let mut out = Vec::new();
    let mut size = [0, 0];
    for image in input.storage::<f32>()[..batch * per_image].chunks_exact(per_image) {
        let (planes, out_size) = op(image, [channels, height, width]);
        super::conv::append(&mut out, planes);
        size = out_size;
    }
    let data = TensorData::new(out, [batch, channels, size[0], size[1]]);
    Some(Tensor::from_data(data, &device))
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Tensor, TensorData};

    use super::*;
    use crate::model::conv_reference::test_values;

    fn flex_tensor(dims: [usize; 4], seed: u32) -> Tensor<4> {
        let values = test_values(dims.iter().product(), seed);
        Tensor::from_data(TensorData::new(values, dims), &Device::flex())
    }

    fn worst(a: Tensor<4>, b: Tensor<4>) -> f32 {
        assert_eq!(a.dims(), b.dims());
        let (a, b) = (a.into_data().try_into_vec::<f32>().unwrap(), b.into_data().try_into_vec::<f32>().unwrap());
        a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
    }

    /// The CPU engine's own pool and resize against Burn's, on odd and even sizes, up and down.
    #[test]
    fn fast_paths_match_burns_operations() {
        for (dims, size) in
            [([2, 3, 7, 9], [14, 18]), ([1, 4, 16, 16], [32, 32]), ([1, 2, 5, 6], [3, 11]), ([1, 1, 1, 1], [4, 4])]
        {
            let x = flex_tensor(dims, 7);
            let burn_pool = MaxPool2dConfig::new([2, 2]).with_ceil_mode(true).init().forward(x.clone());
            assert!(worst(pool(x.clone()), burn_pool) == 0.0, "pool {dims:?}");
            let options = InterpolateOptions::new(InterpolateMode::Bilinear).with_align_corners(false).with_output_size(size);
            let burn_resize = interpolate(x.clone(), options);
            let difference = worst(upsample_to(x.clone(), size), burn_resize.clone());
            assert!(difference < 1e-5, "resize {dims:?} -> {size:?}: {difference}");
            // Scaled so the sigmoid sees large values of both signs too.
            let difference = worst(sigmoid_of_upsampled(x.clone() * 60.0, size), sigmoid(burn_resize * 60.0));
            assert!(difference < 1e-6, "sigmoid of resize {dims:?} -> {size:?}: {difference}");
            let difference = worst(sigmoid_of_upsampled(x.clone(), [dims[2], dims[3]]), sigmoid(x));
            assert!(difference < 1e-6, "sigmoid at the same size {dims:?}: {difference}");
        }
    }
}
