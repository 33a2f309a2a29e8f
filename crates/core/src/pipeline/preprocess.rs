use image::DynamicImage;
use image::imageops::FilterType;

use crate::model::Normalization;

/// The network's input for `photo`: RGB resized to `size` x `size` (bilinear, antialiased when
/// shrinking, as the reference does), normalised per channel, laid out as [1, 3, size, size].
pub fn network_input(photo: &DynamicImage, size: usize, normalization: &Normalization) -> Vec<f32> {
    let side = size as u32;
    // Resize before converting, so a 50 MP photo is never copied whole into another format.
    let rgb = photo.resize_exact(side, side, FilterType::Triangle).into_rgb8();
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
