use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::codecs::webp::WebPEncoder;
use image::{DynamicImage, ExtendedColorType, GrayImage, ImageEncoder};

use super::{Background, cutout, on_background};

/// What the user downloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// PNG with alpha (or on the chosen colour).
    #[default]
    Png,
    /// Lossless WebP with alpha (or on the chosen colour).
    WebP,
    /// JPEG on the chosen colour, white by default.
    Jpeg,
    /// The mask alone, as a grayscale PNG.
    MaskPng,
}

impl OutputFormat {
    pub fn extension(self) -> &'static str {
        match self {
            Self::Png | Self::MaskPng => "png",
            Self::WebP => "webp",
            Self::Jpeg => "jpg",
        }
    }

    pub fn mime_type(self) -> &'static str {
        match self {
            Self::Png | Self::MaskPng => "image/png",
            Self::WebP => "image/webp",
            Self::Jpeg => "image/jpeg",
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("The result could not be encoded as {format} ({detail}).")]
pub struct EncodeError {
    format: &'static str,
    detail: String,
}

const JPEG_QUALITY: u8 = 92;

/// Composes the photo with its alpha mask at full resolution and encodes it.
pub fn render(
    photo: &DynamicImage,
    alpha: &GrayImage,
    format: OutputFormat,
    background: Background,
) -> Result<Vec<u8>, EncodeError> {
    let (width, height) = (photo.width(), photo.height());
    let mut out = Vec::new();
    let cursor = Cursor::new(&mut out);
    let result = match (format, background) {
        (OutputFormat::MaskPng, _) => png(cursor).write_image(alpha, width, height, ExtendedColorType::L8),
        (OutputFormat::Jpeg, _) => {
            let flat = on_background(photo, alpha, background.opaque_or_white());
            JpegEncoder::new_with_quality(cursor, JPEG_QUALITY).write_image(&flat, width, height, ExtendedColorType::Rgb8)
        }
        (OutputFormat::Png, Background::Transparent) => {
            png(cursor).write_image(&cutout(photo, alpha), width, height, ExtendedColorType::Rgba8)
        }
        (OutputFormat::Png, Background::Color(rgb)) => {
            png(cursor).write_image(&on_background(photo, alpha, rgb), width, height, ExtendedColorType::Rgb8)
        }
        (OutputFormat::WebP, Background::Transparent) => {
            WebPEncoder::new_lossless(cursor).write_image(&cutout(photo, alpha), width, height, ExtendedColorType::Rgba8)
        }
        (OutputFormat::WebP, Background::Color(rgb)) => WebPEncoder::new_lossless(cursor).write_image(
            &on_background(photo, alpha, rgb),
            width,
            height,
            ExtendedColorType::Rgb8,
        ),
    };
    result.map_err(|error| EncodeError { format: format.extension(), detail: error.to_string() })?;
    Ok(out)
}

/// Fast deflate: on a 12 MP cutout it encodes several times faster than the default level for a
/// file a few percent larger.
fn png<W: std::io::Write>(writer: W) -> PngEncoder<W> {
    PngEncoder::new_with_quality(writer, CompressionType::Fast, FilterType::Adaptive)
}
