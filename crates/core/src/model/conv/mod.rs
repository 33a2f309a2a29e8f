//! The network's convolutions: Burn's `Conv2d` on every engine, with a faster path on the CPU.
//!
//! On the flex backend, a stride-1 "same" convolution (every layer of ISNet but the first) runs
//! through [`shifted_gemm`], which reads flex's buffers in place through Burn's backend-extension
//! API (`try_into_primitive::<Flex>`) and hands its output back without a copy. Every other
//! engine, and every other shape, goes through `Conv2d::forward`. Both compute the same function;
//! the parity tests hold the CPU engine to onnxruntime.

#[doc(hidden)]
pub mod reference;
mod register_tiles;
mod shifted_gemm;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128_taps;
#[cfg(target_arch = "x86_64")]
mod x86_taps;

use burn::backend::Flex;
use burn::module::Param;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::tensor::{DType, Tensor, TensorData, activation::relu, f16};

pub use shifted_gemm::{SameConv, WeightValue};

/// `conv(x)`, followed by a ReLU when `with_relu`.
pub fn conv2d(conv: &Conv2d, x: Tensor<4>, with_relu: bool) -> Tensor<4> {
    conv2d_concatenated(conv, vec![x], with_relu)
}

/// `conv2d` of the channel concatenation of `parts`; on the CPU engine the concatenation is never
/// built (see [`SameConv::run_concatenated`]).
pub fn conv2d_concatenated(conv: &Conv2d, parts: Vec<Tensor<4>>, with_relu: bool) -> Tensor<4> {
    if let Some(out) = on_flex(conv, &parts, with_relu) {
        return out;
    }
    let x = if parts.len() == 1 { parts.into_iter().next().expect("one part") } else { Tensor::cat(parts, 1) };
    let out = if conv.weight.val().dtype() == x.dtype() { conv.forward(x) } else { widened(conv, x.dtype()).forward(x) };
    if with_relu { relu(out) } else { out }
}

/// `conv` with its weights cast to `dtype`: the CPU engine keeps them in f16 (see
/// `model::load_isnet`), and a convolution this module does not compute itself (ISNet's strided
/// first layer) needs them in the input's type.
fn widened(conv: &Conv2d, dtype: DType) -> Conv2d {
    let mut widened = conv.clone();
    widened.weight = Param::from_tensor(conv.weight.val().cast(dtype));
    widened.bias = conv.bias.as_ref().map(|bias| Param::from_tensor(bias.val().cast(dtype)));
    widened
}

/// The shape of `conv` applied to the concatenation of `parts` when it is one [`SameConv`]
/// computes.
fn same_conv(conv: &Conv2d, parts: &[Tensor<4>]) -> Option<SameConv> {
    let [batch, _, height, width] = parts.first()?.dims();
    let fits = |part: &Tensor<4>| {
        let [b, _, h, w] = part.dims();
        [b, h, w] == [batch, height, width] && part.dtype() == DType::F32
    };
    if !parts.iter().all(fits) {
        return None;
    }
    let in_channels = parts.iter().map(|part| part.dims()[1]).sum();
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

fn on_flex(conv: &Conv2d, parts: &[Tensor<4>], with_relu: bool) -> Option<Tensor<4>> {
    let shape = same_conv(conv, parts)?;
    let device = parts[0].device();
    let inputs = parts
        .iter()
        .map(|part| part.clone().try_into_primitive::<Flex>().ok().map(|t| t.to_contiguous()))
        .collect::<Option<Vec<_>>>()?;
    let weight = conv.weight.val().try_into_primitive::<Flex>().ok()?.to_contiguous();
    let bias = match &conv.bias {
        Some(bias) => {
            let bias = bias.val().try_into_primitive::<Flex>().ok()?.to_contiguous();
            Some(match bias.dtype() {
                DType::F32 => bias.storage::<f32>()[..shape.out_channels].to_vec(),
                DType::F16 => bias.storage::<f16>()[..shape.out_channels].iter().map(|b| b.to_f32()).collect(),
                _ => return None,
            })
        }
        None => None,
    };
    let weights = shape.out_channels * shape.in_channels * shape.kernel * shape.kernel;
    if !matches!(weight.dtype(), DType::F32 | DType::F16) {
        return None;
    }
    let [batch, _, height, width] = parts[0].dims();
    let plane = height * width;
    let mut out = Vec::new();
    for image in 0..batch {
        let slices: Vec<&[f32]> = inputs
            .iter()
            .zip(parts)
            .map(|(input, part)| {
                let per_image = part.dims()[1] * plane;
                &input.storage::<f32>()[image * per_image..][..per_image]
            })
            .collect();
        let bias = bias.as_deref();
        let image_out = match weight.dtype() {
            DType::F16 => shape.run_concatenated(&slices, &weight.storage::<f16>()[..weights], bias, with_relu),
            _ => shape.run_concatenated(&slices, &weight.storage::<f32>()[..weights], bias, with_relu),
        };
        append(&mut out, image_out);
    }
    let data = TensorData::new(out, [batch, shape.out_channels, height, width]);
    Some(Tensor::from_data(data, &device))
}

/// Appends one image's output to the batch's; the first is moved, not copied (a batch of one, as
/// the app and the CLI run, never copies its output).
pub(super) fn append(batch: &mut Vec<f32>, image: Vec<f32>) {
    if batch.is_empty() { *batch = image } else { batch.extend(image) }
}
