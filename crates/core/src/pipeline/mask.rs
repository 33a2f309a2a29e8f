use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::{GrayImage, ImageBuffer, Luma};

/// The network's output: a square mask, 0 = background, 1 = subject.
#[derive(Debug, Clone, PartialEq)]
pub struct Mask {
    size: usize,
    values: Vec<f32>,
}

impl Mask {
    /// `values` is row-major, `size` x `size`.
    pub fn new(size: usize, values: Vec<f32>) -> Option<Self> {
        (values.len() == size * size).then_some(Self { size, values })
    }

    pub fn size(&self) -> usize {
        self.size
    }

    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// The mask at the photo's own size, bilinear (a triangle filter, widened when shrinking),
    /// still in 0..=1.
    pub fn resized(&self, width: u32, height: u32) -> ImageBuffer<Luma<f32>, Vec<f32>> {
        let values = self.resized_values(width, height);
        ImageBuffer::from_raw(width, height, values).unwrap_or_else(|| ImageBuffer::new(width, height))
    }

    /// The alpha channel for a `width` x `height` photo.
    pub fn alpha(&self, width: u32, height: u32) -> GrayImage {
        // + 0.5 and truncation round as `round` does for these non-negative values, in a form the
        // compiler vectorises (`round` is a call per value: 45 of 75 ms on a 12 MP photo).
        let bytes = self.resized_values(width, height).into_iter().map(|value| (value.clamp(0.0, 1.0) * 255.0 + 0.5) as u8);
        GrayImage::from_raw(width, height, bytes.collect()).unwrap_or_else(|| GrayImage::new(width, height))
    }

    /// With fast_image_resize rather than `image::imageops::resize`: the same filter (a unit test
    /// holds the two together), but on a 12-megapixel photo imageops took 360 ms natively, two
    /// thirds of all the work after the network, on one thread while the others waited.
    fn resized_values(&self, width: u32, height: u32) -> Vec<f32> {
        let side = self.size as u32;
        if (width, height) == (side, side) {
            return self.values.clone();
        }
        let mut out = vec![0.0f32; width as usize * height as usize];
        let source = ImageRef::new(side, side, bytemuck::cast_slice(&self.values), PixelType::F32);
        let target = Image::from_slice_u8(width, height, bytemuck::cast_slice_mut(&mut out), PixelType::F32);
        // The sizes and the pixel type always agree here, so only a photo with no pixels could
        // fail, and it has nothing to fill.
        if let (Ok(source), Ok(mut target)) = (source, target) {
            let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear));
            let _ = Resizer::new().resize(&source, &mut target, &options);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::imageops::{self, FilterType as ImageFilter};

    /// A mask with structure at every scale: a soft disc, a hard edge and a fine stripe pattern.
    fn varied(size: usize) -> Mask {
        let values = (0..size * size)
            .map(|i| {
                let (x, y) = ((i % size) as f32 / size as f32, (i / size) as f32 / size as f32);
                let disc = ((0.3 - ((x - 0.5).powi(2) + (y - 0.5).powi(2)).sqrt()) * 20.0).clamp(0.0, 1.0);
                let edge = if x > 0.8 { 1.0 } else { 0.0 };
                let stripes = if (i % size) % 3 == 0 { 0.7 } else { 0.0 };
                (disc + edge + stripes).min(1.0)
            })
            .collect();
        Mask::new(size, values).unwrap()
    }

    #[test]
    fn resizing_matches_image_crates_triangle_filter_up_and_down() {
        let mask = varied(64);
        let square = ImageBuffer::<Luma<f32>, _>::from_raw(64, 64, mask.values().to_vec()).unwrap();
        for (width, height) in [(200, 150), (40, 30), (333, 17), (64, 200), (1, 1), (64, 64)] {
            let ours = mask.resized(width, height);
            let theirs = imageops::resize(&square, width, height, ImageFilter::Triangle);
            let worst = ours.pixels().zip(theirs.pixels()).map(|(a, b)| (a.0[0] - b.0[0]).abs()).fold(0.0f32, f32::max);
            assert!(worst < 1e-4, "{width}x{height}: differs from imageops by up to {worst}");
            let alpha = mask.alpha(width, height);
            assert_eq!(alpha.dimensions(), (width, height));
        }
    }

    #[test]
    fn a_photo_without_pixels_gets_an_empty_alpha() {
        assert_eq!(varied(8).alpha(0, 5).dimensions(), (0, 5));
        assert_eq!(varied(8).alpha(7, 0).dimensions(), (7, 0));
    }
}
