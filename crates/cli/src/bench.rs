//! `bgone-bench`: one 1024x1024 pass on each engine and the whole pipeline on a 12-megapixel
//! photo, next to onnxruntime on the same ONNX in the same run. Prints a Markdown table.
//!
//!     cargo run --release -p bgone-cli --features ndarray --bin bgone-bench
//!
//! Needs `bash models/setup.sh` (the weights and the ONNX files) and its Python environment.
//! Options:
//!   --random-weights    time the network with random weights (same work; no model files needed),
//!                       e.g. on a GPU machine that has no copy of the model
//!   --no-onnxruntime    skip the onnxruntime rows (no Python environment there)
//!   --software-gpu      also time a software GPU adapter (lavapipe: one 1024 pass takes ~15 min)

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use bgone_cli::model;
use bgone_core::Remover;
use bgone_core::engine::{self, Engine};
use bgone_core::model::{Isnet, Normalization};
use bgone_core::pipeline::{Background, DecodeLimits, OutputFormat, decode, render};

const REPEATS: usize = 5;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn time_ms(repeats: usize, mut run: impl FnMut()) -> f64 {
    run(); // warm-up: kernel compilation (GPU), allocations
    median(
        (0..repeats)
            .map(|_| {
                let start = Instant::now();
                run();
                start.elapsed().as_secs_f64() * 1000.0
            })
            .collect(),
    )
}

fn pass_ms(remover: &Remover, repeats: usize) -> f64 {
    let input = vec![0.1f32; 3 * 1024 * 1024];
    time_ms(repeats, || {
        remover.read_mask(remover.predict(input.clone())).expect("inference");
    })
}

fn pipeline_ms(remover: &Remover, photo: &Path, repeats: usize) -> f64 {
    let bytes = std::fs::read(photo).expect("photo");
    time_ms(repeats, || {
        let image = decode(&bytes, &DecodeLimits::default()).expect("decodes");
        let alpha = remover.mask(&image).expect("inference").alpha(image.width(), image.height());
        render(&image, &alpha, OutputFormat::Png, Background::Transparent).expect("encodes");
    })
}

/// A 12-megapixel JPEG made from a test photo, so the benchmark needs no download.
fn twelve_megapixel_photo(root: &Path) -> PathBuf {
    let path = std::env::temp_dir().join("bgone-bench-12mp.jpg");
    if !path.exists() {
        let photo = image::open(root.join("tests/fixtures/photos/rocket.jpg")).expect("fixture");
        photo.resize_exact(4240, 2832, image::imageops::FilterType::CatmullRom).to_rgb8().save(&path).expect("write");
    }
    path
}

fn onnxruntime(root: &Path, photo: &Path) -> serde_json::Value {
    let cache = std::env::var_os("BGONE_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/bgone"));
    let script = format!(
        "source {root}/models/python-env.sh && python {root}/crates/cli/benches/onnxruntime_pass.py \
         {cache}/models/isnet-medium-fp16.onnx {cache}/models/isnet-medium-fp32.onnx {photo} {REPEATS}",
        root = root.display(),
        cache = cache.display(),
        photo = photo.display()
    );
    let output = Command::new("bash").arg("-c").arg(script).output().expect("bash runs");
    if !output.status.success() {
        panic!("onnxruntime benchmark failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    serde_json::from_slice(&output.stdout).expect("onnxruntime JSON")
}

fn random_weights_remover(device: bgone_core::Device) -> Remover {
    let normalization = Normalization { mean: [128.0; 3], std: [256.0; 3] };
    Remover::from_model(Isnet::new(&device), device, normalization, 1024).expect("1024 is a valid size")
}

fn main() {
    bgone_cli::allocator::keep_freed_memory();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().any(|arg| arg == name);
    // The repository this was built in, or (a binary carried to another machine) the current one.
    let root = std::env::var_os("BGONE_ROOT")
        .map(PathBuf::from)
        .or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().ok())
        .unwrap_or_else(|| PathBuf::from("."));
    let manifest = root.join("models/generated/isnet-medium.json");
    let photo = twelve_megapixel_photo(&root);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let ort = if flag("--no-onnxruntime") {
        serde_json::Value::Null
    } else {
        eprintln!("Timing onnxruntime ...");
        onnxruntime(&root, &photo)
    };
    let ort_pass = ort["pass_fp32_ms"].as_f64().unwrap_or(f64::NAN);
    let ort_pipeline = ort["pipeline_ms"].as_f64().unwrap_or(f64::NAN);

    let engines = [
        Engine::Cpu,
        Engine::Gpu,
        #[cfg(feature = "ndarray")]
        Engine::NdArray,
    ];

    println!("| engine | 1024x1024 pass | vs onnxruntime | 12 MP photo, whole pipeline | vs onnxruntime |");
    println!("|---|---|---|---|---|");
    for engine in engines {
        let device = match engine::open(engine) {
            Ok(device) => device,
            Err(error) => {
                println!("| {} | unavailable: {error} | | | |", engine.label());
                continue;
            }
        };
        let identity = device.identity();
        let name = identity.as_ref().map_or_else(|| engine.label().to_owned(), |id| format!("{} on {}", engine.label(), id.name));
        if identity.is_some_and(|id| id.physical.is_none()) && !flag("--software-gpu") {
            println!("| {name} | skipped: software adapter (--software-gpu times it) | | | |");
            continue;
        }
        eprintln!("Timing {name} ...");
        let remover = if flag("--random-weights") {
            random_weights_remover(device)
        } else {
            model::load(&manifest, device, None).expect("model loads")
        };
        let pass = pass_ms(&remover, REPEATS);
        let pipeline = pipeline_ms(&remover, &photo, REPEATS.div_ceil(2));
        println!("| {name} | {:.0} ms | {:.2}x | {:.0} ms | {:.2}x |", pass, pass / ort_pass, pipeline, pipeline / ort_pipeline);
    }
    if !ort.is_null() {
        println!(
            "| onnxruntime {} (fp32 ONNX) | {:.0} ms | 1.00x | {:.0} ms (PIL) | 1.00x |",
            ort["onnxruntime"].as_str().unwrap_or("?"),
            ort_pass,
            ort_pipeline
        );
        println!("| onnxruntime (fp16 ONNX as shipped) | {:.0} ms | | | |", ort["pass_fp16_ms"].as_f64().unwrap_or(f64::NAN));
    }
    println!("\nMedian of {REPEATS} runs after one warm-up; {cores} cores.");
}
