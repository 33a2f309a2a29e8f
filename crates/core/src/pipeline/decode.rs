use std::io::Cursor;

use image::error::{ImageError, LimitErrorKind};
use image::{DynamicImage, ImageDecoder, ImageReader, Limits};

/// How large an image we agree to decode. Checked from the header, before any pixel is decoded,
/// so a small file that declares huge dimensions (a decompression bomb) costs nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Width x height. 64 MP covers 50 MP cameras and scans with room to spare.
    pub max_pixels: u64,
    /// Longest side, so that panoramas fit but degenerate shapes do not.
    pub max_side: u32,
    /// Memory the decoder may allocate, in bytes (64 MP at 16 bits per channel with alpha).
    pub max_alloc: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self { max_pixels: 64_000_000, max_side: 32_768, max_alloc: 512 * 1024 * 1024 }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("The file is empty. Pick the photo again; it may not have finished copying.")]
    Empty,
    #[error("This file is {0}, which bgone cannot read. Convert it to JPEG, PNG or WebP first.")]
    UnsupportedFormat(&'static str),
    #[error("This file is not an image bgone can read. Use JPEG, PNG, WebP, GIF, BMP or TIFF.")]
    NotAnImage,
    #[error("The image is damaged or incomplete ({0}). Export or download it again.")]
    Corrupt(String),
    #[error(
        "The image is too large ({width}x{height} pixels; the limit is {limit_megapixels} megapixels \
         and {max_side} pixels a side). Scale it down and try again."
    )]
    TooLarge { width: u32, height: u32, limit_megapixels: u64, max_side: u32 },
}

/// Decodes a photo (JPEG, PNG, WebP, GIF's first frame, BMP, TIFF; any bit depth, grey or colour,
/// with or without alpha) and turns it upright according to its EXIF orientation.
pub fn decode(bytes: &[u8], limits: &DecodeLimits) -> Result<DynamicImage, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    if let Some(format) = known_unsupported_format(bytes) {
        return Err(DecodeError::UnsupportedFormat(format));
    }
    let mut reader =
        ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|error| DecodeError::Corrupt(error.to_string()))?;
    match reader.format() {
        None => return Err(DecodeError::NotAnImage),
        Some(image::ImageFormat::Jpeg) if jpeg_is_truncated(bytes) => {
            return Err(DecodeError::Corrupt("the file ends before the image does".into()));
        }
        Some(_) => {}
    }
    // Width and height are checked from the header first, so the message can give them.
    if let Ok(size) = imagesize::blob_size(bytes) {
        let dimensions = (u32::try_from(size.width).unwrap_or(u32::MAX), u32::try_from(size.height).unwrap_or(u32::MAX));
        if exceeds(dimensions, limits) {
            return Err(too_large(dimensions, limits));
        }
    }
    let mut image_limits = Limits::default();
    image_limits.max_alloc = Some(limits.max_alloc);
    reader.limits(image_limits);

    let mut decoder = reader.into_decoder().map_err(|error| classify(error, None, limits))?;
    let dimensions = decoder.dimensions();
    if exceeds(dimensions, limits) {
        return Err(too_large(dimensions, limits));
    }
    if dimensions.0 == 0 || dimensions.1 == 0 {
        return Err(DecodeError::Corrupt("it has no pixels".into()));
    }
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(|error| classify(error, Some(dimensions), limits))?;
    image.apply_orientation(orientation);
    Ok(image)
}

fn exceeds((width, height): (u32, u32), limits: &DecodeLimits) -> bool {
    u64::from(width) * u64::from(height) > limits.max_pixels || width.max(height) > limits.max_side
}

fn too_large((width, height): (u32, u32), limits: &DecodeLimits) -> DecodeError {
    DecodeError::TooLarge { width, height, limit_megapixels: limits.max_pixels / 1_000_000, max_side: limits.max_side }
}

fn classify(error: ImageError, dimensions: Option<(u32, u32)>, limits: &DecodeLimits) -> DecodeError {
    match error {
        ImageError::Limits(limit) => match (limit.kind(), dimensions) {
            (LimitErrorKind::DimensionError, _) | (LimitErrorKind::InsufficientMemory, _) => {
                let (width, height) = dimensions.unwrap_or((0, 0));
                DecodeError::TooLarge {
                    width,
                    height,
                    limit_megapixels: limits.max_pixels / 1_000_000,
                    max_side: limits.max_side,
                }
            }
            _ => DecodeError::Corrupt(limit.to_string()),
        },
        ImageError::Unsupported(unsupported) => DecodeError::Corrupt(unsupported.to_string()),
        ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            DecodeError::Corrupt("the file ends too early".into())
        }
        other => DecodeError::Corrupt(other.to_string()),
    }
}

/// The JPEG decoder fills a cut-off scan with grey instead of failing, which would give a
/// silently wrong cutout. A whole file has an end-of-image marker after its last scan (an EXIF
/// thumbnail has its own markers, but before the main image's scan).
fn jpeg_is_truncated(bytes: &[u8]) -> bool {
    let last = |marker: u8| bytes.windows(2).rposition(|pair| pair == [0xff, marker]);
    match (last(0xda), last(0xd9)) {
        (Some(scan), Some(end)) => end < scan,
        (Some(_), None) => true,
        _ => false,
    }
}

/// Names the formats people most often drop that are images but not ones we decode, so the
/// message can say what the file is instead of "not an image".
fn known_unsupported_format(bytes: &[u8]) -> Option<&'static str> {
    let brand = bytes.get(4..12);
    match brand {
        Some(b"ftypheic" | b"ftypheix" | b"ftypmif1" | b"ftypmsf1" | b"ftypheim" | b"ftypheis") => {
            return Some("HEIC (an iPhone photo format)");
        }
        Some(b"ftypavif" | b"ftypavis") => return Some("AVIF"),
        _ => {}
    }
    if bytes.starts_with(b"%PDF") {
        return Some("a PDF document");
    }
    let head = &bytes[..bytes.len().min(512)];
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    if text.trim_start_matches('\u{feff}').trim_start().starts_with('<') && text.contains("<svg") {
        return Some("an SVG drawing");
    }
    None
}
