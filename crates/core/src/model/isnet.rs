use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::tensor::{Device, Tensor};

use super::resample::pool;
use super::rsu::{Rsu, rsu, rsu4f};

/// Shapes of the network. `channel_divisor` > 1 gives a narrower ISNet with random weights,
/// for tests and fuzzing that must not depend on the 88 MB of real weights.
#[derive(Debug, Clone, Copy)]
pub struct IsnetConfig {
    pub channel_divisor: usize,
}

impl Default for IsnetConfig {
    fn default() -> Self {
        Self { channel_divisor: 1 }
    }
}

/// ISNet (Qin et al., "Highly Accurate Dichotomous Image Segmentation", 2022) at inference:
/// only the `side1` head, which gives the mask. The deep-supervision heads `side2..side6` serve
/// training and are not part of the converted weights.
#[derive(Module, Debug)]
pub struct Isnet {
    pub conv_in: Conv2d,
    pub stage1: Rsu,
    pub stage2: Rsu,
    pub stage3: Rsu,
    pub stage4: Rsu,
    pub stage5: Rsu,
    pub stage6: Rsu,
    pub stage5d: Rsu,
    pub stage4d: Rsu,
    pub stage3d: Rsu,
    pub stage2d: Rsu,
    pub stage1d: Rsu,
    pub side1: Conv2d,
}

impl IsnetConfig {
    pub fn init(&self, device: &Device) -> Isnet {
        let c = |channels: usize| (channels / self.channel_divisor.max(1)).max(1);
        let conv3x3 = |in_ch: usize, out_ch: usize, stride: usize| {
            Conv2dConfig::new([in_ch, out_ch], [3, 3])
                .with_stride([stride, stride])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device)
        };
        Isnet {
            conv_in: conv3x3(3, c(64), 2),
            stage1: rsu(7, c(64), c(32), c(64), device),
            stage2: rsu(6, c(64), c(32), c(128), device),
            stage3: rsu(5, c(128), c(64), c(256), device),
            stage4: rsu(4, c(256), c(128), c(512), device),
            stage5: rsu4f(c(512), c(256), c(512), device),
            stage6: rsu4f(c(512), c(256), c(512), device),
            stage5d: rsu4f(c(1024), c(256), c(512), device),
            stage4d: rsu(4, c(1024), c(128), c(256), device),
            stage3d: rsu(5, c(512), c(64), c(128), device),
            stage2d: rsu(6, c(256), c(32), c(64), device),
            stage1d: rsu(7, c(128), c(16), c(64), device),
            side1: conv3x3(c(64), 1, 1),
        }
    }
}

impl Isnet {
    /// The full-size network with uninitialised weights, to be filled by [`super::load_isnet`].
    pub fn new(device: &Device) -> Self {
        IsnetConfig::default().init(device)
    }

    /// `x`: [batch, 3, S, S] normalised RGB with S a multiple of 64 (1024 for the trained size).
    /// Returns the mask, [batch, 1, S, S], each value in 0..=1.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [_, _, height, width] = x.dims();
        let hxin = super::conv::conv2d(&self.conv_in, x, false);

        let hx1 = self.stage1.forward(hxin);
        let hx2 = self.stage2.forward(pool(hx1.clone()));
        let hx3 = self.stage3.forward(pool(hx2.clone()));
        let hx4 = self.stage4.forward(pool(hx3.clone()));
        let hx5 = self.stage5.forward(pool(hx4.clone()));
        let hx6 = self.stage6.forward(pool(hx5.clone()));

        let decode = |stage: &Rsu, deeper: Tensor<4>, skip: Tensor<4>| stage.forward_upsampled_and(deeper, skip);
        let hx5d = decode(&self.stage5d, hx6, hx5);
        let hx4d = decode(&self.stage4d, hx5d, hx4);
        let hx3d = decode(&self.stage3d, hx4d, hx3);
        let hx2d = decode(&self.stage2d, hx3d, hx2);
        let hx1d = decode(&self.stage1d, hx2d, hx1);

        let d1 = super::conv::conv2d(&self.side1, hx1d, false);
        super::resample::sigmoid_of_upsampled(d1, [height, width])
    }
}
