use fast_image_resize::{FilterType as ResizeFilter, ResizeAlg, ResizeOptions, Resizer};
use image::DynamicImage;
use image::imageops::FilterType;

use crate::model::Normalization;

/// The network's input for `photo`: RGB resized to `size` x `size` (bilinear, antialiased when
/// shrinking, as the reference does), normalised per channel, laid out as [1, 3, size, size].
pub fn network_input(photo: &DynamicImage, size: usize, normalization: &Normalization) -> Vec<f32> {
    let rgb = square(photo, size as u32).into_rgb8();
    let plane = size * size;
    let mut input = vec![0.0f32; 3 * plane];
    for (i, pixel) in rgb.pixels().enumerate() {
        for channel in 0..3 {
            let value = f32::from(pixel.0[channel]);
            input[channel * plane + i] = (value - normalization.mean[channel]) / normalization.std[channel];
        }
    }
    input
}

/// `photo` at `side` x `side`, in its own colour type: resized before it is converted, so a 50 MP
/// photo is never copied whole into another format.
///
/// With fast_image_resize rather than `DynamicImage::resize_exact`: the same triangle filter,
/// within one level of 255 of it (a unit test holds the two together), but a 12 MP photo took
/// 210-240 ms that way natively and 11-25 ms this way. Colour and alpha are filtered alike, as
/// `resize_exact` does, not weighted by alpha. A colour type fast_image_resize does not know
/// falls back to `resize_exact`.
fn square(photo: &DynamicImage, side: u32) -> DynamicImage {
    let mut resized = DynamicImage::new(side, side, photo.color());
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(ResizeFilter::Bilinear)).use_alpha(false);
    match Resizer::new().resize(photo, &mut resized, &options) {
        Ok(()) => resized,
        Err(_) => photo.resize_exact(side, side, FilterType::Triangle),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage, Rgba, RgbaImage};

    /// A photo with detail at every scale: gradients, a hard edge and one-pixel stripes.
    fn varied(width: u32, height: u32) -> RgbaImage {
        RgbaImage::from_fn(width, height, |x, y| {
            let edge = if x > width * 3 / 4 { 255 } else { 0 };
            let stripe = if x % 2 == 0 { 200 } else { 10 };
            Rgba([(x * 255 / width) as u8, edge, stripe, (y * 255 / height) as u8])
        })
    }

    #[test]
    fn the_square_matches_image_crates_triangle_filter_in_every_colour_type() {
        let rgba = DynamicImage::ImageRgba8(varied(301, 187));
        let photos = [
            rgba.clone(),
            DynamicImage::ImageRgb8(rgba.to_rgb8()),
            DynamicImage::ImageLuma8(rgba.to_luma8()),
            DynamicImage::ImageLumaA8(rgba.to_luma_alpha8()),
            DynamicImage::ImageRgb16(rgba.to_rgb16()),
            DynamicImage::ImageRgba16(rgba.to_rgba16()),
            DynamicImage::ImageRgb32F(rgba.to_rgb32f()),
        ];
        for photo in photos {
            for side in [64, 512] {
                let ours = square(&photo, side);
                assert_eq!(ours.color(), photo.color());
                let theirs = photo.resize_exact(side, side, FilterType::Triangle).into_rgba8();
                let worst = ours.into_rgba8().as_raw().iter().zip(theirs.as_raw()).map(|(a, b)| a.abs_diff(*b)).max();
                assert!(worst <= Some(1), "{:?} at {side}: differs from resize_exact by {worst:?}", photo.color());
            }
        }
    }

    #[test]
    fn the_input_is_normalised_and_laid_out_by_channel() {
        let photo = DynamicImage::ImageRgb8(RgbImage::from_pixel(5, 3, Rgb([128, 0, 255])));
        let normalization = Normalization { mean: [128.0; 3], std: [256.0; 3] };
        let input = network_input(&photo, 4, &normalization);
        assert_eq!(input.len(), 3 * 16);
        assert!(input[..16].iter().all(|&v| v == 0.0));
        assert!(input[16..32].iter().all(|&v| v == -0.5));
        assert!(input[32..].iter().all(|&v| (v - 127.0 / 256.0).abs() < 1e-6));
    }
}
