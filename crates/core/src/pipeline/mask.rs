use image::imageops::{self, FilterType};
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

    /// The mask at the photo's own size, bilinear, still in 0..=1.
    pub fn resized(&self, width: u32, height: u32) -> ImageBuffer<Luma<f32>, Vec<f32>> {
        let side = self.size as u32;
        let square = ImageBuffer::from_raw(side, side, self.values.clone()).unwrap_or_else(|| ImageBuffer::new(side, side));
        if (width, height) == (side, side) {
            return square;
        }
        imageops::resize(&square, width, height, FilterType::Triangle)
    }

    /// The alpha channel for a `width` x `height` photo.
    pub fn alpha(&self, width: u32, height: u32) -> GrayImage {
        let resized = self.resized(width, height);
        let bytes = resized.into_raw().into_iter().map(|value| (value.clamp(0.0, 1.0) * 255.0).round() as u8);
        GrayImage::from_raw(width, height, bytes.collect()).unwrap_or_else(|| GrayImage::new(width, height))
    }
}
