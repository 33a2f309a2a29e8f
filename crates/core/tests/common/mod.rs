//! Shared by the parity tests: where the model and the onnxruntime reference live, and how to
//! read them. Both come from the README's setup (`bash models/setup.sh`,
//! `bash tests/reference/generate.sh`); a missing file fails the test with that instruction.
#![allow(dead_code)]

use std::path::PathBuf;

use bgone_core::model::ModelManifest;
use bgone_core::{Device, Remover};
use safetensors::SafeTensors;

/// The source tree, asked of cargo at run time: a test binary built from another clone that
/// shares the target folder (CI's cache) is not rebuilt for this one, and `env!` would name that clone.
pub fn repo_root() -> PathBuf {
    PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())).join("../..")
}

pub fn cache_dir() -> PathBuf {
    std::env::var_os("BGONE_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/bgone"))
}

pub fn manifest() -> ModelManifest {
    let path = repo_root().join("models/generated/isnet-medium.json");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}. Run `bash models/setup.sh` first.", path.display()));
    ModelManifest::from_json(&text).expect("manifest parses")
}

pub fn remover(device: Device, size: Option<usize>) -> Remover {
    let manifest = manifest();
    let weights = std::fs::read(repo_root().join("models/generated").join(&manifest.file)).expect("weights readable");
    Remover::load(&manifest, weights, device, size).expect("model loads")
}

pub fn photo_path(stem: &str) -> PathBuf {
    let dir = repo_root().join("tests/fixtures/photos");
    std::fs::read_dir(&dir)
        .expect("photo folder")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .find(|path| path.file_stem().is_some_and(|s| s == stem))
        .unwrap_or_else(|| panic!("no photo named {stem} in {}", dir.display()))
}

pub const PHOTOS: [&str; 4] = ["astronaut", "chelsea", "coffee", "rocket"];

/// One photo's reference from onnxruntime.
pub struct Reference {
    pub input: Vec<f32>,
    pub mask: Vec<f32>,
    pub photo_mask: Vec<f32>,
    pub photo_size: (u32, u32),
}

pub fn reference(stem: &str) -> Reference {
    let path = cache_dir().join("reference").join(format!("{stem}.safetensors"));
    let bytes =
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}. Run `bash tests/reference/generate.sh` first.", path.display()));
    let tensors = SafeTensors::deserialize(&bytes).expect("reference parses");
    let floats = |name: &str| -> (Vec<f32>, Vec<usize>) {
        let view = tensors.tensor(name).expect("tensor present");
        let values = view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        (values, view.shape().to_vec())
    };
    let (input, _) = floats("input");
    let (mask, _) = floats("mask");
    let (photo_mask, shape) = floats("photo_mask");
    Reference { input, mask, photo_mask, photo_size: (shape[1] as u32, shape[0] as u32) }
}

pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

pub fn mean_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    (a.iter().zip(b).map(|(x, y)| f64::from((x - y).abs())).sum::<f64>() / a.len() as f64) as f32
}

/// Intersection over union of the two masks thresholded at 0.5.
pub fn iou(a: &[f32], b: &[f32]) -> f32 {
    let (mut both, mut either) = (0usize, 0usize);
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (*x >= 0.5, *y >= 0.5);
        both += usize::from(x && y);
        either += usize::from(x || y);
    }
    if either == 0 { 1.0 } else { both as f32 / either as f32 }
}
