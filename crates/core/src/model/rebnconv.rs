use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::tensor::{Device, Tensor};

/// DIS's REBNCONV: 3x3 convolution, batch norm, ReLU. The exported graph folds the batch norm
/// into the convolution, so only `conv_s1` (with its bias) remains.
#[derive(Module, Debug)]
pub struct RebnConv {
    pub conv_s1: Conv2d,
}

impl RebnConv {
    pub fn new(in_channels: usize, out_channels: usize, dilation: usize, device: &Device) -> Self {
        let conv_s1 = Conv2dConfig::new([in_channels, out_channels], [3, 3])
            .with_dilation([dilation, dilation])
            .with_padding(PaddingConfig2d::Explicit(dilation, dilation, dilation, dilation))
            .init(device);
        Self { conv_s1 }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        super::conv::conv2d(&self.conv_s1, x, true)
    }

    /// `forward` of the channel concatenation of `deeper` upsampled to the size of `skip`, and
    /// `skip` (a decoder layer's input).
    pub fn forward_upsampled_and(&self, deeper: Tensor<4>, skip: Tensor<4>) -> Tensor<4> {
        super::conv::conv2d_upsampled_and(&self.conv_s1, deeper, skip, true)
    }
}
