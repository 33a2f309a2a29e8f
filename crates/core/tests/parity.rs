//! The network computes what the original model computes: our masks against onnxruntime's on the
//! same ONNX weights (see tests/reference/generate_reference.py). These run the full 1024x1024
//! network, so they are `#[ignore]`d for quick local runs; the README's test command and CI run
//! them with `--include-ignored`.

mod common;

use bgone_core::engine::{self, Engine};
use bgone_core::pipeline::{DecodeLimits, decode};
use common::*;

/// Same input tensor in, 1024x1024 mask out: within 1e-3 of onnxruntime everywhere.
fn tensor_parity(engine: Engine, photos: &[&str]) {
    let remover = remover(engine::open(engine).expect("engine opens"), None);
    for stem in photos {
        let reference = reference(stem);
        let mask = remover.read_mask(remover.predict(reference.input.clone())).expect("inference");
        let max = max_abs_diff(mask.values(), &reference.mask);
        println!("{stem} on {}: max |mask - onnxruntime| = {max:.2e}", engine.label());
        assert!(max <= 1e-3, "{stem} on {}: max abs difference {max} > 1e-3", engine.label());
    }
}

#[test]
#[ignore = "slow: full network passes"]
fn cpu_mask_matches_onnxruntime_for_the_same_input() {
    tensor_parity(Engine::Cpu, &PHOTOS);
}

#[test]
#[cfg(feature = "wgpu")]
#[ignore = "slow: full network passes on a Vulkan device"]
fn gpu_mask_matches_onnxruntime_for_the_same_input() {
    // Natively on Debian's lavapipe here; any Vulkan/Metal/DX12 adapter elsewhere.
    // One photo: lavapipe runs Burn's direct convolution kernels on two CPU cores, about 13 minutes a pass.
    tensor_parity(Engine::Gpu, &["chelsea"]);
}

/// Photo in, mask at the photo's size out, through our own decode and resize: close to the
/// reference pipeline (PIL resizes) on every photo, including thin structures (rocket's lattice
/// towers) and fur (chelsea).
#[test]
#[ignore = "slow: full network passes"]
fn photo_masks_match_the_reference_pipeline() {
    let remover = remover(engine::open(Engine::Cpu).expect("cpu"), None);
    let mut ious = Vec::new();
    for stem in PHOTOS {
        let reference = reference(stem);
        let photo = decode(&std::fs::read(photo_path(stem)).unwrap(), &DecodeLimits::default()).expect("decodes");
        assert_eq!((photo.width(), photo.height()), reference.photo_size);
        let input_diff = mean_abs_diff(&remover.input_for(&photo), &reference.input);
        let mask = remover.mask(&photo).expect("inference");
        let ours = mask.resized(photo.width(), photo.height()).into_raw();
        let mean = mean_abs_diff(&ours, &reference.photo_mask);
        let iou = iou(&ours, &reference.photo_mask);
        println!("{stem}: input mean diff {input_diff:.2e}, mask mean abs diff {mean:.4}, IoU {iou:.4}");
        assert!(mean <= 0.01, "{stem}: mean abs difference {mean} > 0.01");
        ious.push(iou);
    }
    ious.sort_by(f32::total_cmp);
    let median = (ious[ious.len() / 2 - 1] + ious[ious.len() / 2]) / 2.0;
    assert!(median >= 0.99, "median IoU {median} < 0.99 ({ious:?})");
}
