//! A 3x3 convolution at dilation `d` as `d²` convolutions at dilation 1, one on each subgrid of
//! the input (the pixels whose row is `sy` and whose column is `sx` modulo `d`), so that
//! Winograd's algorithm ([`super::winograd`]) computes the dilated layers too.
//!
//! Why: the output pixel `(sy + d·i, sx + d·j)` reads only input pixels of the subgrid
//! `(sy, sx)`, at `(sy + d·(i + ky - 1), sx + d·(j + kx - 1))`: on the subgrid taken as an image
//! of its own, that is an ordinary "same" 3x3 convolution, zero outside it exactly where the
//! dilated one is zero outside the image. ISNet's dilated layers (the bottom of each RSU block,
//! and RSU4F's dilations of 2, 4 and 8) are about 6% of its arithmetic, and by one product per
//! tap they took about a fifth of the CPU engine's convolution time once the undilated layers
//! ran by Winograd's F(4x4, 3x3). The subgrids are gathered into planes of their own and the
//! outputs scattered back (one copy of the input and the output each, small next to the
//! products); the filters are transformed once for all `d²` of them.

use super::register_tiles::TileKernel;
use super::shifted_gemm::{ChannelSource, SameConv, WeightValue};
use super::winograd::{self, Transformed};

/// True when `conv` is a dilated 3x3 convolution whose subgrids [`winograd`] computes with
/// `kernel`: each has enough tiles for the register tiles (on a 2x2 subgrid a 4x4 tile would take
/// 36 products for 4 outputs, no fewer than the direct 9 per output).
pub(super) fn applies(conv: &SameConv, kernel: Option<TileKernel>) -> bool {
    conv.dilation > 1 && winograd::applies(&largest_subgrid(conv), kernel)
}

/// The undilated convolution of `conv`'s first subgrid, the largest.
fn largest_subgrid(conv: &SameConv) -> SameConv {
    undilated(conv, conv.height.div_ceil(conv.dilation), conv.width.div_ceil(conv.dilation))
}

fn undilated(conv: &SameConv, height: usize, width: usize) -> SameConv {
    SameConv { height, width, dilation: 1, ..*conv }
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
    let (d, height, width) = (conv.dilation, conv.height, conv.width);
    let largest = largest_subgrid(conv);
    let filters = Transformed::new(&largest, weight, winograd::kernel_for(&largest, kernel));
    let mut output = vec![0.0f32; conv.out_channels * height * width];
    for sy in 0..d {
        for sx in 0..d {
            // Rows sy, sy + d, ... and columns sx, sx + d, ... of the image.
            let (rows, columns) = ((height - sy).div_ceil(d), (width - sx).div_ceil(d));
            let planes = gather(channels, width, (sy, sx), d, (rows, columns));
            let sources: Vec<ChannelSource> = planes.chunks_exact(rows * columns).map(ChannelSource::Same).collect();
            let sub = filters.run(&undilated(conv, rows, columns), &sources, bias, relu);
            scatter(&sub, &mut output, width, height, (sy, sx), d, (rows, columns));
        }
    }
    output
}

/// The subgrid starting at `(sy, sx)` with step `d` of every channel, `rows` x `columns` each.
fn gather(
    channels: &[ChannelSource],
    width: usize,
    (sy, sx): (usize, usize),
    d: usize,
    (rows, columns): (usize, usize),
) -> Vec<f32> {
    let mut planes = vec![0.0f32; channels.len() * rows * columns];
    let gather_channel = |(source, plane): (&ChannelSource, &mut [f32])| {
        let mut buffer = vec![0.0f32; width];
        for (i, row) in plane.chunks_exact_mut(columns).enumerate() {
            let image_row = source.row(sy + d * i, width, &mut buffer);
            for (value, &pixel) in row.iter_mut().zip(image_row[sx..].iter().step_by(d)) {
                *value = pixel;
            }
        }
    };
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        channels.par_iter().zip(planes.par_chunks_exact_mut(rows * columns)).for_each(gather_channel);
    }
    #[cfg(not(feature = "rayon"))]
    channels.iter().zip(planes.chunks_exact_mut(rows * columns)).for_each(gather_channel);
    planes
}

/// Each channel of `sub` (`rows` x `columns`) written to the subgrid starting at `(sy, sx)` with
/// step `d` of the same channel of `output` (`height` x `width` each).
fn scatter(
    sub: &[f32],
    output: &mut [f32],
    width: usize,
    height: usize,
    (sy, sx): (usize, usize),
    d: usize,
    (rows, columns): (usize, usize),
) {
    let scatter_channel = |(plane, out): (&[f32], &mut [f32])| {
        for (i, row) in plane.chunks_exact(columns).enumerate() {
            let image_row = &mut out[(sy + d * i) * width..][..width];
            for (pixel, &value) in image_row[sx..].iter_mut().step_by(d).zip(row) {
                *pixel = value;
            }
        }
    };
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        sub.par_chunks_exact(rows * columns).zip(output.par_chunks_exact_mut(height * width)).for_each(scatter_channel);
    }
    #[cfg(not(feature = "rayon"))]
    sub.chunks_exact(rows * columns).zip(output.chunks_exact_mut(height * width)).for_each(scatter_channel);
}

#[cfg(test)]
mod tests {
    use super::super::reference::assert_matches_the_definition;
    use super::super::register_tiles::available;
    use super::*;

    fn dilated(in_channels: usize, out_channels: usize, height: usize, width: usize, dilation: usize) -> SameConv {
        SameConv { in_channels, out_channels, height, width, kernel: 3, dilation }
    }

    #[test]
    fn matches_the_definition_at_every_dilation_of_isnet() {
        for shape in [
            dilated(16, 8, 16, 16, 2),
            dilated(24, 16, 32, 32, 4),
            dilated(8, 8, 32, 32, 8),
            // Sizes that are no multiple of the dilation: subgrids of different sizes.
            dilated(12, 8, 19, 13, 2),
            dilated(12, 8, 17, 26, 4),
        ] {
            assert_matches_the_definition(shape, |kernel, channels, weight, bias| {
                run(&shape, kernel, channels, weight, Some(bias), true)
            });
        }
    }

    #[test]
    fn only_subgrids_with_enough_tiles_take_winograds_algorithm() {
        for kernel in available().into_iter().map(Some).chain([None]) {
            assert!(applies(&dilated(16, 8, 64, 64, 2), kernel), "{kernel:?}");
            assert!(!applies(&dilated(16, 8, 16, 16, 8), kernel), "{kernel:?}");
            assert!(!applies(&dilated(16, 8, 64, 64, 1), kernel), "{kernel:?}");
        }
    }
}
