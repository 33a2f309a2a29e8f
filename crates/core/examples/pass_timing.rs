//! Times network passes on one engine at one size: `cargo run --release -p bgone-core --features
//! wgpu --example pass_timing -- gpu 256 3`. For looking into engine speed, not a benchmark.

use std::time::Instant;

mod common;

use bgone_core::engine::{self, Engine};
use bgone_core::model::load_isnet;
use bgone_core::{Device, Remover};

fn main() {
    let mut args = std::env::args().skip(1);
    let engine = match args.next().as_deref() {
        #[cfg(feature = "wgpu")]
        Some("gpu") => Engine::Gpu,
        _ => Engine::Cpu,
    };
    let size: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1024);
    let passes: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(3);
    let (manifest, weights) = common::model_files();
    let device: Device = engine::open(engine).unwrap();
    let start = Instant::now();
    let model = load_isnet(weights, &device).unwrap();
    println!("{} load: {:.1} ms", engine.label(), start.elapsed().as_secs_f64() * 1000.0);
    let remover = Remover::from_model(model, device, manifest.normalization.clone(), size).unwrap();
    for pass in 0..passes {
        let start = Instant::now();
        remover.read_mask(remover.predict(vec![0.1; 3 * size * size])).unwrap();
        println!("{} pass {pass} at {size}: {:.2} s", engine.label(), start.elapsed().as_secs_f64());
    }
}
