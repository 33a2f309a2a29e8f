//! What the examples share: the converted model as `models/setup.sh` writes it.

use bgone_core::engine::{self, Engine};
use bgone_core::model::{ModelManifest, load_isnet};
use bgone_core::{Device, Remover};

/// The manifest and the weights' bytes of `models/generated/isnet-medium.*`.
pub fn model_files() -> (ModelManifest, Vec<u8>) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/generated");
    let manifest = ModelManifest::from_json(&std::fs::read_to_string(root.join("isnet-medium.json")).unwrap()).unwrap();
    let weights = std::fs::read(root.join(&manifest.file)).unwrap();
    (manifest, weights)
}

/// The CPU engine with the model loaded, running the network at `size`.
#[allow(dead_code)] // pass_timing times the load itself
pub fn cpu_remover(size: usize) -> Remover {
    let (manifest, weights) = model_files();
    let device: Device = engine::open(Engine::Cpu).unwrap();
    let model = load_isnet(weights, &device).unwrap();
    Remover::from_model(model, device, manifest.normalization.clone(), size).unwrap()
}
