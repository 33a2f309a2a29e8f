//! Times the steps around the network on a photo: its resize to the network's input, and, with a
//! made-up mask (a soft disc, the rest background), everything after: `cargo run --release -p bgone-core --features native-fast --example post_timing
//! -- photo.jpg`. For looking into where a large photo's time goes, not a benchmark.

use std::time::Instant;

use bgone_core::model::Normalization;
use bgone_core::pipeline::{Background, DecodeLimits, Mask, OutputFormat, decode, network_input, render};

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: post_timing <photo>");
        std::process::exit(2);
    };
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1000.0;
    let bytes = std::fs::read(path).expect("the photo can be read");
    let t = Instant::now();
    let photo = decode(&bytes, &DecodeLimits::default()).expect("the photo decodes");
    println!("decode {}x{}: {:.0} ms", photo.width(), photo.height(), ms(t));
    let size = 1024;
    let normalization = Normalization { mean: [128.0; 3], std: [256.0; 3] };
    for _ in 0..2 {
        let t = Instant::now();
        let input = network_input(&photo, size, &normalization);
        println!("network input ({} values): {:.0} ms", input.len(), ms(t));
    }
    let values = (0..size * size)
        .map(|i| {
            let (x, y) = ((i % size) as f32 / size as f32 - 0.5, (i / size) as f32 / size as f32 - 0.5);
            ((0.35 - (x * x + y * y).sqrt()) * 40.0).clamp(0.0, 1.0)
        })
        .collect();
    let mask = Mask::new(size, values).expect("a square mask");
    for _ in 0..2 {
        let t = Instant::now();
        let alpha = mask.alpha(photo.width(), photo.height());
        println!("mask at the photo's size: {:.0} ms", ms(t));
        for format in [OutputFormat::Png, OutputFormat::MaskPng] {
            let t = Instant::now();
            let file = render(&photo, &alpha, format, Background::Transparent).expect("encodes");
            println!("{format:?} (compose and encode): {:.0} ms, {:.1} MB", ms(t), file.len() as f64 / 1e6);
        }
    }
}
