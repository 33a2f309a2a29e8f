//! The network's convolutions: Burn's `Conv2d` on every engine, with a faster path on the CPU.
//!
//! On the flex backend, a stride-1 "same" convolution (every layer of ISNet but the first) runs
//! through [`shifted_gemm`], which reads flex's buffers in place through Burn's backend-extension
//! API (`try_into_primitive::<Flex>`) and hands its output back without a copy; of those, the
//! 3x3 ones at dilation 1 (most of ISNet's arithmetic) run by Winograd's algorithm
//! ([`winograd`]), with 4x fewer multiplications, on the same register-tile kernels, and so do the
//! dilated ones, as convolutions of their input's subgrids ([`subgrids`]). The first layer, a 3x3
//! convolution at stride 2, runs as a 1x1 convolution of its taps' planes ([`strided`]), on the
//! same kernels. Every other engine, and every other shape, goes through `Conv2d::forward`. Both
//! compute the same function; the parity tests hold the CPU engine to onnxruntime.

mod phases;
#[doc(hidden)]
pub mod reference;
mod register_tiles;
mod shifted_gemm;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128_taps;
mod strided;
mod subgrids;
mod winograd;
#[cfg(target_arch = "x86_64")]
mod x86_taps;

use burn::backend::Flex;
use burn::backend::flex::FlexTensor;
use burn::module::Param;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::tensor::{DType, Tensor, TensorData, activation::relu, f16};

use shifted_gemm::widen_all;
pub use shifted_gemm::{SameConv, Source, WeightValue};
pub use strided::StridedConv;

/// `conv(x)`, followed by a ReLU when `with_relu`.
pub fn conv2d(conv: &Conv2d, x: Tensor<4>, with_relu: bool) -> Tensor<4> {
    let [_, _, height, width] = x.dims();
    if let Some(out) = on_flex(conv, &[(&x, false)], [height, width], with_relu) {
        return out;
    }
    if let Some(out) = strided_on_flex(conv, &x, with_relu) {
        return out;
    }
    on_any_engine(conv, x, with_relu)
}

/// `conv2d` of the channel concatenation of `deeper`, upsampled to the size of `skip`
/// (bilinear, half-pixel centres, as DIS's `_upsample_like`), and `skip`: the input of every
/// ISNet decoder layer. On the CPU engine neither the upsampled map nor the concatenation is
/// ever built: the upsampling is done row by row as the padded input is filled (see
/// [`Source::Resized`]); at 512x512 they are 64 MB each.
pub fn conv2d_upsampled_and(conv: &Conv2d, deeper: Tensor<4>, skip: Tensor<4>, with_relu: bool) -> Tensor<4> {
    let [_, _, height, width] = skip.dims();
    let resized = deeper.dims()[2..] != [height, width];
    if let Some(out) = on_flex(conv, &[(&deeper, resized), (&skip, false)], [height, width], with_relu) {
        return out;
    }
    let up = super::resample::upsample_to(deeper, [height, width]);
    on_any_engine(conv, Tensor::cat(vec![up, skip], 1), with_relu)
}

fn on_any_engine(conv: &Conv2d, x: Tensor<4>, with_relu: bool) -> Tensor<4> {
    let out = if conv.weight.val().dtype() == x.dtype() { conv.forward(x) } else { widened(conv, x.dtype()).forward(x) };
    if with_relu { relu(out) } else { out }
}

/// `conv` with its weights cast to `dtype`: the CPU engine keeps them in f16 (see
/// `model::load_isnet`), and a convolution of a shape this module does not compute itself needs
/// them in the input's type (none of ISNet's at present).
fn widened(conv: &Conv2d, dtype: DType) -> Conv2d {
    let mut widened = conv.clone();
    widened.weight = Param::from_tensor(conv.weight.val().cast(dtype));
    widened.bias = conv.bias.as_ref().map(|bias| Param::from_tensor(bias.val().cast(dtype)));
    widened
}

/// The shape of `conv` applied to the concatenation of `parts` (each flagged when it is to be
/// resized to `[height, width]`) when it is one [`SameConv`] computes.
fn same_conv(conv: &Conv2d, parts: &[(&Tensor<4>, bool)], [height, width]: [usize; 2]) -> Option<SameConv> {
    let batch = parts.first()?.0.dims()[0];
    let fits = |&(part, resized): &(&Tensor<4>, bool)| {
        let [b, _, h, w] = part.dims();
        b == batch && (resized || [h, w] == [height, width]) && h * w > 0 && part.dtype() == DType::F32
    };
    if !parts.iter().all(fits) {
        return None;
    }
    let in_channels = parts.iter().map(|(part, _)| part.dims()[1]).sum();
    let [out_channels, weight_in, kernel, kernel_w] = conv.weight.dims();
    let [dilation, dilation_w] = conv.dilation;
    let pad = dilation * kernel.saturating_sub(1) / 2;
    let shape = SameConv { in_channels, out_channels, height, width, kernel, dilation };
    (conv.stride == [1, 1]
        && conv.groups == 1
        && weight_in == in_channels
        && kernel == kernel_w
        && dilation == dilation_w
        && conv.padding == PaddingConfig2d::Explicit(pad, pad, pad, pad)
        && shape.is_supported())
    .then_some(shape)
}

fn on_flex(conv: &Conv2d, parts: &[(&Tensor<4>, bool)], size: [usize; 2], with_relu: bool) -> Option<Tensor<4>> {
    let shape = same_conv(conv, parts, size)?;
    let inputs = parts
        .iter()
        .map(|(part, _)| (*part).clone().try_into_primitive::<Flex>().ok().map(in_order))
        .collect::<Option<Vec<_>>>()?;
    let (weight, bias) = weight_and_bias(conv, shape.out_channels)?;
    let weights = shape.out_channels * shape.in_channels * shape.kernel * shape.kernel;
    let batch = parts[0].0.dims()[0];
    let mut out = Vec::new();
    for image in 0..batch {
        let sources: Vec<Source> = inputs
            .iter()
            .zip(parts)
            .map(|(input, &(part, resized))| {
                let [_, channels, height, width] = part.dims();
                let per_image = channels * height * width;
                let planes = &input.storage::<f32>()[image * per_image..][..per_image];
                if resized { Source::Resized { planes, height, width } } else { Source::Same(planes) }
            })
            .collect();
        let bias = bias.as_deref();
        let image_out = match weight.dtype() {
            DType::F16 => shape.run_sources(&sources, &weight.storage::<f16>()[..weights], bias, with_relu),
            _ => shape.run_sources(&sources, &weight.storage::<f32>()[..weights], bias, with_relu),
        };
        append(&mut out, image_out);
    }
    let [height, width] = size;
    let data = TensorData::new(out, [batch, shape.out_channels, height, width]);
    Some(Tensor::from_data(data, &parts[0].0.device()))
}

/// `conv(x)` on the CPU engine when `conv` is a 3x3 convolution at stride 2 with a padding of 1
/// (ISNet's first layer), by [`StridedConv`].
fn strided_on_flex(conv: &Conv2d, x: &Tensor<4>, with_relu: bool) -> Option<Tensor<4>> {
    let [batch, in_channels, height, width] = x.dims();
    let [out_channels, weight_in, kernel, kernel_w] = conv.weight.dims();
    let shape = StridedConv { in_channels, out_channels, height, width };
    let fits = conv.stride == [2, 2]
        && conv.groups == 1
        && conv.dilation == [1, 1]
        && [weight_in, kernel, kernel_w] == [in_channels, 3, 3]
        && conv.padding == PaddingConfig2d::Explicit(1, 1, 1, 1)
        && x.dtype() == DType::F32
        && batch > 0
        && shape.is_supported();
    if !fits {
        return None;
    }
    let input = in_order(x.clone().try_into_primitive::<Flex>().ok()?);
    let (weight, bias) = weight_and_bias(conv, out_channels)?;
    let (per_image, weights) = (in_channels * height * width, out_channels * in_channels * 9);
    let mut out = Vec::new();
    for image in input.storage::<f32>()[..batch * per_image].chunks_exact(per_image) {
        let image_out = match weight.dtype() {
            DType::F16 => shape.run(image, &weight.storage::<f16>()[..weights], bias.as_deref(), with_relu),
            _ => shape.run(image, &weight.storage::<f32>()[..weights], bias.as_deref(), with_relu),
        };
        append(&mut out, image_out);
    }
    let [out_height, out_width] = shape.output_size();
    let data = TensorData::new(out, [batch, out_channels, out_height, out_width]);
    Some(Tensor::from_data(data, &x.device()))
}

/// `conv`'s weight tensor on the CPU engine (`f32` or `f16`, as loaded) and its bias in `f32`.
fn weight_and_bias(conv: &Conv2d, out_channels: usize) -> Option<(FlexTensor, Option<Vec<f32>>)> {
    let weight = in_order(conv.weight.val().try_into_primitive::<Flex>().ok()?);
    if !matches!(weight.dtype(), DType::F32 | DType::F16) {
        return None;
    }
    let bias = match &conv.bias {
        Some(bias) => {
            let bias = in_order(bias.val().try_into_primitive::<Flex>().ok()?);
            Some(match bias.dtype() {
                DType::F32 => widen_all(&bias.storage::<f32>()[..out_channels]),
                DType::F16 => widen_all(&bias.storage::<f16>()[..out_channels]),
                _ => return None,
            })
        }
        None => None,
    };
    Some((weight, bias))
}

/// `tensor` with its values in order from the start of its buffer: itself where they already
/// are (every tensor the CPU engine makes and loads), else flex's contiguous copy. Why not always
/// flex's `to_contiguous`, which returns such a tensor as it is: it is one function for every
/// type and layout (42 KB of WebAssembly), and called for every operand of every layer it got
/// hot enough that V8 optimised it during the first photo after a start, about 60 ms of
/// compiling on a 2-core machine for a check.
pub(super) fn in_order(tensor: FlexTensor) -> FlexTensor {
    let layout = tensor.layout();
    let whole = layout.contiguous_offsets() == Some((0, layout.num_elements()))
        && tensor.bytes().len() == layout.num_elements() * tensor.dtype().size();
    if whole { tensor } else { tensor.to_contiguous() }
}

/// Appends one image's output to the batch's; the first is moved, not copied (a batch of one, as
/// the app and the CLI run, never copies its output).
pub(super) fn append(batch: &mut Vec<f32>, image: Vec<f32>) {
    if batch.is_empty() { *batch = image } else { batch.extend(image) }
}
