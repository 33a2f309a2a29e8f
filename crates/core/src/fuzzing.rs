//! The whole path a file takes (decode → preprocess → network → mask → compose → every encoder)
//! on arbitrary bytes, with a tiny random network instead of the 88 MB of real weights. Shared by
//! the cargo-fuzz target (`tests/fuzz`) and by the test that replays every input it ever crashed
//! on (`tests/fuzz_regressions.rs`), so a fixed crash stays fixed.

use std::cell::OnceCell;

use crate::model::{IsnetConfig, Normalization};
use crate::pipeline::{Background, DecodeLimits, OutputFormat, decode, render};
use crate::{Device, Remover};

/// Smaller than the app's limits so each input runs in milliseconds; the checks are the same code.
pub const LIMITS: DecodeLimits = DecodeLimits { max_pixels: 1 << 20, max_side: 4096, max_alloc: 64 << 20 };

thread_local! {
    static REMOVER: OnceCell<Remover> = const { OnceCell::new() };
}

fn tiny_remover() -> Remover {
    let device = Device::flex();
    let model = IsnetConfig { channel_divisor: 16 }.init(&device);
    let normalization = Normalization { mean: [0.5; 3], std: [1.0; 3] };
    Remover::from_model(model, device, normalization, 64).expect("64 is a valid network size")
}

/// Runs `data` through everything. Errors are fine (they are messages for the user); a panic, or
/// an output that does not match its input's size, is a bug.
pub fn exercise(data: &[u8]) {
    let Ok(photo) = decode(data, &LIMITS) else { return };
    let (width, height) = (photo.width(), photo.height());
    let alpha = REMOVER.with(|cell| {
        let remover = cell.get_or_init(tiny_remover);
        let mask = remover.mask(&photo).expect("a decoded photo always gets a mask");
        mask.alpha(width, height)
    });
    assert_eq!(alpha.dimensions(), (width, height));
    for (format, background) in [
        (OutputFormat::Png, Background::Transparent),
        (OutputFormat::WebP, Background::Transparent),
        (OutputFormat::Jpeg, Background::Color([0, 128, 255])),
        (OutputFormat::MaskPng, Background::Transparent),
    ] {
        let bytes = render(&photo, &alpha, format, background).expect("a decoded photo always encodes");
        if format == OutputFormat::Png {
            let back = image::load_from_memory(&bytes).expect("our own PNG decodes");
            assert_eq!((back.width(), back.height()), (width, height));
        }
    }
}
