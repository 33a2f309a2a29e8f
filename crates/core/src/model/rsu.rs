use burn::module::Module;
use burn::tensor::{Device, Tensor};

use super::rebnconv::RebnConv;
use super::resample::pool;

/// DIS's residual U-block (RSU). One struct covers the whole family, so the forward pass that
/// ISNet's eleven stages share is written once:
/// - RSU-L (L = 4..7): encoder `rebnconv1..rebnconvL` with a max pool between them (none before
///   the last, which is dilated by 2); decoder `rebnconv{L-1}d..rebnconv1d`, each upsampling to
///   its skip connection before concatenating.
/// - RSU4F: four encoder layers dilated 1, 2, 4, 8 at full resolution, no pooling.
///
/// Layers a shorter block lacks are `None`, which keeps every field named as in the source graph.
#[derive(Module, Debug)]
pub struct Rsu {
    pub rebnconvin: RebnConv,
    pub rebnconv1: RebnConv,
    pub rebnconv2: RebnConv,
    pub rebnconv3: RebnConv,
    pub rebnconv4: RebnConv,
    pub rebnconv5: Option<RebnConv>,
    pub rebnconv6: Option<RebnConv>,
    pub rebnconv7: Option<RebnConv>,
    pub rebnconv6d: Option<RebnConv>,
    pub rebnconv5d: Option<RebnConv>,
    pub rebnconv4d: Option<RebnConv>,
    pub rebnconv3d: RebnConv,
    pub rebnconv2d: RebnConv,
    pub rebnconv1d: RebnConv,
    pub pooled: bool,
}

/// RSU-L with `height` = L in 4..=7.
pub fn rsu(height: usize, in_ch: usize, mid_ch: usize, out_ch: usize, device: &Device) -> Rsu {
    debug_assert!((4..=7).contains(&height));
    // Only the innermost encoder layer is dilated.
    let dilation = |i: usize| if i == height { 2 } else { 1 };
    Rsu::build(height, true, dilation, [in_ch, mid_ch, out_ch], device)
}

/// RSU4F: the dilated block ISNet uses in its two deepest stages.
pub fn rsu4f(in_ch: usize, mid_ch: usize, out_ch: usize, device: &Device) -> Rsu {
    let dilation = |i: usize| 1 << (i - 1);
    Rsu::build(4, false, dilation, [in_ch, mid_ch, out_ch], device)
}

impl Rsu {
    fn build(
        height: usize,
        pooled: bool,
        dilation: impl Fn(usize) -> usize,
        [in_ch, mid, out]: [usize; 3],
        device: &Device,
    ) -> Self {
        let encoder = |i: usize| RebnConv::new(if i == 1 { out } else { mid }, mid, dilation(i), device);
        // Decoder layer i mirrors encoder layer i and takes its output concatenated with the
        // layer below, hence 2 * mid inputs.
        let decoder = |i: usize| RebnConv::new(2 * mid, if i == 1 { out } else { mid }, dilation(i), device);
        let optional_encoder = |i: usize| (i <= height).then(|| encoder(i));
        let optional_decoder = |i: usize| (i < height).then(|| decoder(i));
        Self {
            rebnconvin: RebnConv::new(in_ch, out, 1, device),
            rebnconv1: encoder(1),
            rebnconv2: encoder(2),
            rebnconv3: encoder(3),
            rebnconv4: encoder(4),
            rebnconv5: optional_encoder(5),
            rebnconv6: optional_encoder(6),
            rebnconv7: optional_encoder(7),
            rebnconv6d: optional_decoder(6),
            rebnconv5d: optional_decoder(5),
            rebnconv4d: optional_decoder(4),
            rebnconv3d: decoder(3),
            rebnconv2d: decoder(2),
            rebnconv1d: decoder(1),
            pooled,
        }
    }

    /// `rebnconv1..rebnconvL`, outermost first.
    fn encoder(&self) -> Vec<&RebnConv> {
        let optional = [&self.rebnconv5, &self.rebnconv6, &self.rebnconv7];
        [&self.rebnconv1, &self.rebnconv2, &self.rebnconv3, &self.rebnconv4]
            .into_iter()
            .chain(optional.into_iter().flatten())
            .collect()
    }

    /// `rebnconv{L-1}d..rebnconv1d`, innermost first: the order the decoder runs them.
    fn decoder(&self) -> Vec<&RebnConv> {
        let optional = [&self.rebnconv6d, &self.rebnconv5d, &self.rebnconv4d];
        optional.into_iter().flatten().chain([&self.rebnconv3d, &self.rebnconv2d, &self.rebnconv1d]).collect()
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.after_input_layer(self.rebnconvin.forward(x))
    }

    /// `forward` of the channel concatenation of `deeper` upsampled to the size of `skip`, and
    /// `skip`: ISNet's decoder stages. The CPU engine never builds either (see
    /// [`super::conv::conv2d_upsampled_and`]).
    pub fn forward_upsampled_and(&self, deeper: Tensor<4>, skip: Tensor<4>) -> Tensor<4> {
        self.after_input_layer(self.rebnconvin.forward_upsampled_and(deeper, skip))
    }

    /// The block after its input layer, whose output `hxin` is also the residual.
    fn after_input_layer(&self, hxin: Tensor<4>) -> Tensor<4> {
        let encoder = self.encoder();
        let innermost = encoder.len() - 1;
        let mut skips = Vec::with_capacity(encoder.len());
        let mut hx = hxin.clone();
        for (i, layer) in encoder.into_iter().enumerate() {
            if self.pooled && i > 0 && i < innermost {
                hx = pool(hx);
            }
            hx = layer.forward(hx);
            skips.push(hx.clone());
        }
        // The innermost output starts the decoder; it is not a skip connection of its own.
        let mut hxd = skips.pop().unwrap_or(hx);
        for (layer, skip) in self.decoder().into_iter().zip(skips.into_iter().rev()) {
            hxd = layer.forward_upsampled_and(hxd, skip);
        }
        hxd + hxin
    }
}
