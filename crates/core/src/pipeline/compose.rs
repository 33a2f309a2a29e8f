use image::{DynamicImage, GrayImage, RgbImage, RgbaImage};

/// The photo at full resolution with the mask as its alpha. An input that already had
/// transparency keeps it: the two alphas multiply. Where the result is fully transparent its
/// colour goes too (0, 0, 0, 0, as a browser's canvas stores it): nothing shows there either way,
/// and the background's colours made up most of a cutout PNG's bytes. A 12 MP photo with 60%
/// background: 10.5 MB before, 4.9 MB after, and the PNG encoded in 60 ms instead of 110 natively.
///
/// Photos in 8-bit RGB or RGBA (every JPEG, most PNGs) are composed in one pass from their own
/// pixels: converting to RGBA first (`to_rgba8`) was a second full-resolution pass, 33-36 of the
/// 43 ms this took natively on a 12 MP JPEG, and one more function for the browser to compile.
pub fn cutout(photo: &DynamicImage, alpha: &GrayImage) -> RgbaImage {
    let (width, height) = (photo.width(), photo.height());
    match photo {
        DynamicImage::ImageRgb8(rgb) => with_alpha(width, height, 3, rgb.as_raw(), alpha),
        DynamicImage::ImageRgba8(rgba) => with_alpha(width, height, 4, rgba.as_raw(), alpha),
        // 16-bit, float and grey photos are converted first.
        _ => with_alpha(width, height, 4, photo.to_rgba8().as_raw(), alpha),
    }
}

/// RGBA from 8-bit `pixels` of `channels` (3: RGB, 4: RGBA) and the mask, in one pass.
fn with_alpha(width: u32, height: u32, channels: usize, pixels: &[u8], alpha: &GrayImage) -> RgbaImage {
    // Zeroed: a fully transparent pixel is left as it is.
    let mut out = vec![0u8; width as usize * height as usize * 4];
    for ((target, source), mask) in out.chunks_exact_mut(4).zip(pixels.chunks_exact(channels)).zip(alpha.as_raw()) {
        let a = if channels == 4 { multiply(source[3], *mask) } else { *mask };
        if a != 0 {
            target.copy_from_slice(&[source[0], source[1], source[2], a]);
        }
    }
    // `out` has exactly the size this asks for.
    RgbaImage::from_raw(width, height, out).unwrap_or_else(|| RgbaImage::new(width, height))
}

/// The subject over a solid colour, for formats without alpha and for "white background" shots.
pub fn on_background(photo: &DynamicImage, alpha: &GrayImage, background: [u8; 3]) -> RgbImage {
    let cut = cutout(photo, alpha);
    let mut out = RgbImage::new(cut.width(), cut.height());
    for (target, source) in out.pixels_mut().zip(cut.pixels()) {
        let a = u16::from(source.0[3]);
        for ((target, &subject), &under) in target.0.iter_mut().zip(&source.0[..3]).zip(&background) {
            let blended = u16::from(subject) * a + u16::from(under) * (255 - a);
            *target = ((blended + 127) / 255) as u8;
        }
    }
    out
}

fn multiply(a: u8, b: u8) -> u8 {
    ((u16::from(a) * u16::from(b) + 127) / 255) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Luma, Rgba};

    #[test]
    fn mask_becomes_alpha_and_keeps_existing_transparency() {
        let photo = DynamicImage::ImageRgba8(RgbaImage::from_fn(2, 1, |x, _| {
            if x == 0 { Rgba([10, 20, 30, 255]) } else { Rgba([10, 20, 30, 128]) }
        }));
        let alpha = GrayImage::from_pixel(2, 1, Luma([255]));
        let out = cutout(&photo, &alpha);
        assert_eq!(out.get_pixel(0, 0).0, [10, 20, 30, 255]);
        assert_eq!(out.get_pixel(1, 0).0, [10, 20, 30, 128]);
    }

    #[test]
    fn fully_transparent_pixels_lose_their_colour_and_the_rest_keep_it() {
        let photo = DynamicImage::ImageRgb8(RgbImage::from_pixel(3, 1, image::Rgb([200, 100, 50])));
        let alpha = GrayImage::from_fn(3, 1, |x, _| Luma([[0, 1, 255][x as usize]]));
        let out = cutout(&photo, &alpha);
        assert_eq!(out.get_pixel(0, 0).0, [0, 0, 0, 0]);
        assert_eq!(out.get_pixel(1, 0).0, [200, 100, 50, 1]);
        assert_eq!(out.get_pixel(2, 0).0, [200, 100, 50, 255]);
    }

    /// The one-pass compose of 8-bit RGB and RGBA gives what converting to RGBA first gives (the
    /// path every other colour type takes), on every mask level and every alpha level.
    #[test]
    fn one_pass_matches_converting_first() {
        let (width, height) = (256, 9);
        let alpha = GrayImage::from_fn(width, height, |x, y| Luma([(x as u8).wrapping_mul(y as u8 + 1)]));
        let rgba = RgbaImage::from_fn(width, height, |x, y| Rgba([x as u8, (x * 3 + y) as u8, (y * 29) as u8, (255 - x) as u8]));
        let rgb = DynamicImage::ImageRgba8(rgba.clone()).to_rgb8();
        for photo in [DynamicImage::ImageRgba8(rgba), DynamicImage::ImageRgb8(rgb)] {
            let converted = DynamicImage::ImageRgba16(photo.to_rgba16());
            assert_eq!(cutout(&photo, &alpha), cutout(&converted, &alpha), "{:?}", photo.color());
        }
    }

    #[test]
    fn background_shows_where_the_mask_is_empty() {
        let photo = DynamicImage::ImageRgb8(RgbImage::from_pixel(2, 1, image::Rgb([200, 0, 0])));
        let alpha = GrayImage::from_fn(2, 1, |x, _| Luma([if x == 0 { 255 } else { 0 }]));
        let out = on_background(&photo, &alpha, [0, 0, 255]);
        assert_eq!(out.get_pixel(0, 0).0, [200, 0, 0]);
        assert_eq!(out.get_pixel(1, 0).0, [0, 0, 255]);
    }
}
