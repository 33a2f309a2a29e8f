//! Decoding what users drop: every supported format, bit depth and colour model comes out as the
//! right pixels, photos are turned upright by their EXIF orientation, and everything else gets an
//! error that says what is wrong.

use std::io::Cursor;

use bgone_core::pipeline::{DecodeError, DecodeLimits, decode};
use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageEncoder, ImageFormat, Rgb, RgbImage, imageops};

/// 3x2 blocks of 16 px in six clearly different colours, so JPEG artefacts cannot blur which
/// block is where.
fn upright() -> RgbImage {
    const COLOURS: [[u8; 3]; 6] = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [0, 255, 255], [255, 0, 255]];
    RgbImage::from_fn(48, 32, |x, y| Rgb(COLOURS[(y / 16 * 3 + x / 16) as usize]))
}

fn encode(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Vec::new();
    image.write_to(&mut Cursor::new(&mut bytes), format).expect("encodes");
    bytes
}

fn assert_close(decoded: &DynamicImage, expected: &RgbImage, tolerance: u8) {
    let decoded = decoded.to_rgb8();
    assert_eq!(decoded.dimensions(), expected.dimensions());
    for (x, y) in [(8, 8), (24, 8), (40, 8), (8, 24), (24, 24), (40, 24)] {
        let (a, b) = (decoded.get_pixel(x, y).0, expected.get_pixel(x, y).0);
        for c in 0..3 {
            assert!(a[c].abs_diff(b[c]) <= tolerance, "pixel ({x},{y}): {a:?} vs {b:?}");
        }
    }
}

#[test]
fn every_supported_format_decodes_to_the_same_pixels() {
    let image = DynamicImage::ImageRgb8(upright());
    for (format, tolerance) in [
        (ImageFormat::Png, 0),
        (ImageFormat::Jpeg, 12),
        (ImageFormat::WebP, 0),
        (ImageFormat::Gif, 0),
        (ImageFormat::Bmp, 0),
        (ImageFormat::Tiff, 0),
    ] {
        let decoded = decode(&encode(&image, format), &DecodeLimits::default()).unwrap_or_else(|e| panic!("{format:?}: {e}"));
        assert_close(&decoded, &upright(), tolerance);
    }
}

#[test]
fn grey_sixteen_bit_and_alpha_inputs_decode() {
    let rgb = upright();
    let sixteen = DynamicImage::ImageRgb16(DynamicImage::ImageRgb8(rgb.clone()).into_rgb16());
    assert_close(&decode(&encode(&sixteen, ImageFormat::Png), &DecodeLimits::default()).unwrap(), &rgb, 0);

    let grey = DynamicImage::ImageLuma8(DynamicImage::ImageRgb8(rgb.clone()).into_luma8());
    let decoded = decode(&encode(&grey, ImageFormat::Png), &DecodeLimits::default()).unwrap();
    assert_eq!(decoded.to_luma8(), grey.to_luma8());

    let grey_alpha = DynamicImage::ImageLumaA8(DynamicImage::ImageRgb8(rgb).into_luma_alpha8());
    let decoded = decode(&encode(&grey_alpha, ImageFormat::Png), &DecodeLimits::default()).unwrap();
    assert_eq!(decoded.to_luma_alpha8(), grey_alpha.to_luma_alpha8());
}

/// A TIFF structure with one IFD entry: the orientation tag.
fn exif_orientation(orientation: u16) -> Vec<u8> {
    let mut tiff = b"II\x2a\x00\x08\x00\x00\x00".to_vec();
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&0x0112u16.to_le_bytes());
    tiff.extend_from_slice(&3u16.to_le_bytes());
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&orientation.to_le_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    tiff
}

#[test]
fn exif_orientations_one_to_eight_come_out_upright() {
    let upright = upright();
    for orientation in 1..=8u16 {
        // What a camera stores so that applying `orientation` shows `upright`.
        let stored = match orientation {
            1 => upright.clone(),
            2 => imageops::flip_horizontal(&upright),
            3 => imageops::rotate180(&upright),
            4 => imageops::flip_vertical(&upright),
            5 => imageops::flip_horizontal(&imageops::rotate90(&upright)),
            6 => imageops::rotate270(&upright),
            7 => imageops::flip_vertical(&imageops::rotate90(&upright)),
            _ => imageops::rotate90(&upright),
        };
        let mut bytes = Vec::new();
        let mut encoder = JpegEncoder::new_with_quality(&mut bytes, 95);
        encoder.set_exif_metadata(exif_orientation(orientation)).unwrap();
        encoder.write_image(&stored, stored.width(), stored.height(), image::ExtendedColorType::Rgb8).unwrap();
        let decoded = decode(&bytes, &DecodeLimits::default()).unwrap();
        assert_close(&decoded, &upright, 12);
    }
}

#[test]
fn bad_files_get_errors_that_say_what_is_wrong() {
    let limits = DecodeLimits::default();
    assert_eq!(decode(b"", &limits), Err(DecodeError::Empty));
    assert_eq!(decode(b"hello, this is a text file", &limits), Err(DecodeError::NotAnImage));
    assert!(matches!(
        decode(b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>", &limits),
        Err(DecodeError::UnsupportedFormat(name)) if name.contains("SVG")
    ));
    assert!(matches!(
        decode(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", &limits),
        Err(DecodeError::UnsupportedFormat(name)) if name.contains("HEIC")
    ));

    let jpeg = encode(&DynamicImage::ImageRgb8(upright()), ImageFormat::Jpeg);
    let truncated = decode(&jpeg[..jpeg.len() / 2], &limits);
    assert!(matches!(truncated, Err(DecodeError::Corrupt(_))), "{truncated:?}");
}

#[test]
fn a_huge_declared_size_is_refused_before_decoding() {
    // A valid PNG header that declares 60000 x 60000 pixels: refused from the header alone.
    let mut png = encode(&DynamicImage::ImageRgb8(RgbImage::new(1, 1)), ImageFormat::Png);
    png[16..20].copy_from_slice(&60000u32.to_be_bytes());
    png[20..24].copy_from_slice(&60000u32.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    let message = decode(&png, &DecodeLimits::default()).unwrap_err();
    assert!(matches!(message, DecodeError::TooLarge { width: 60000, height: 60000, .. }), "{message:?}");
    assert!(message.to_string().contains("Scale it down"));
}

/// PNG's chunk checksum, so the bomb above is a well-formed file and not merely corrupt.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}
