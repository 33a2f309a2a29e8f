//! The pipeline end to end with a narrow random network (no real weights needed): what a user
//! downloads has the photo's size, its pixels, and the mask as alpha.

use bgone_core::model::{IsnetConfig, Normalization};
use bgone_core::pipeline::{Background, OutputFormat, render};
use bgone_core::{Device, RemoveError, Remover};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};

fn tiny_remover(size: usize) -> Result<Remover, RemoveError> {
    let device = Device::flex();
    let model = IsnetConfig { channel_divisor: 16 }.init(&device);
    let normalization = Normalization { mean: [128.0; 3], std: [256.0; 3] };
    Remover::from_model(model, device, normalization, size)
}

fn photo() -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_fn(300, 200, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 99])))
}

#[test]
fn outputs_have_the_photos_size_pixels_and_mask() {
    let remover = tiny_remover(64).unwrap();
    let photo = photo();
    let mask = remover.mask(&photo).unwrap();
    assert_eq!(mask.size(), 64);
    assert!(mask.values().iter().all(|v| (0.0..=1.0).contains(v)));
    let alpha = mask.alpha(300, 200);

    let png = render(&photo, &alpha, OutputFormat::Png, Background::Transparent).unwrap();
    let decoded = image::load_from_memory_with_format(&png, ImageFormat::Png).unwrap().into_rgba8();
    assert_eq!(decoded.dimensions(), (300, 200));
    for (x, y) in [(0, 0), (150, 100), (299, 199)] {
        let pixel = decoded.get_pixel(x, y).0;
        let a = alpha.get_pixel(x, y).0[0];
        assert_eq!(pixel[3], a);
        // Fully transparent pixels are stored as (0, 0, 0, 0); every other keeps the photo's colour.
        let rgb = if a == 0 { [0; 3] } else { photo.to_rgb8().get_pixel(x, y).0 };
        assert_eq!(&pixel[..3], &rgb[..]);
    }

    let mask_png = render(&photo, &alpha, OutputFormat::MaskPng, Background::Transparent).unwrap();
    let decoded = image::load_from_memory(&mask_png).unwrap();
    assert_eq!(decoded.color(), image::ColorType::L8);
    assert_eq!(decoded.into_luma8(), alpha);

    let jpeg = render(&photo, &alpha, OutputFormat::Jpeg, Background::WHITE).unwrap();
    assert_eq!(image::guess_format(&jpeg).unwrap(), ImageFormat::Jpeg);
    let webp = render(&photo, &alpha, OutputFormat::WebP, Background::Transparent).unwrap();
    let decoded = image::load_from_memory_with_format(&webp, ImageFormat::WebP).unwrap().into_rgba8();
    assert_eq!(decoded.get_pixel(150, 100).0[3], alpha.get_pixel(150, 100).0[0]);
}

/// The device test the browser runs on a WebGPU adapter it has not seen pass, here on the CPU:
/// a full-width network with random weights gives a usable 64x64 mask.
#[test]
fn the_device_test_passes_on_a_working_device() {
    pollster::block_on(Remover::test_device(&Device::flex())).unwrap();
}

#[test]
fn network_sizes_must_be_multiples_of_64() {
    assert!(matches!(tiny_remover(100), Err(RemoveError::InvalidSize(100))));
    assert!(matches!(tiny_remover(0), Err(RemoveError::InvalidSize(0))));
    assert!(tiny_remover(128).is_ok());
}
