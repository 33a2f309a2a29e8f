use std::path::{Path, PathBuf};

use bgone_core::Device;
use bgone_core::Remover;
use bgone_core::model::ModelManifest;

use crate::CliError;

const DEFAULT_MANIFEST: &str = "models/generated/isnet-medium.json";

/// `--model`, else `$BGONE_MODEL`, else the setup's output in this folder or in the source tree.
pub fn manifest_path(flag: Option<&Path>) -> PathBuf {
    if let Some(path) = flag {
        return path.to_owned();
    }
    if let Some(path) = std::env::var_os("BGONE_MODEL") {
        return path.into();
    }
    let here = PathBuf::from(DEFAULT_MANIFEST);
    if here.exists() {
        return here;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(DEFAULT_MANIFEST)
}

pub fn load(manifest_path: &Path, device: Device, size: Option<usize>) -> Result<Remover, CliError> {
    let text = std::fs::read_to_string(manifest_path)
        .map_err(|error| CliError::ModelMissing { path: manifest_path.to_owned(), detail: error.to_string() })?;
    let manifest = ModelManifest::from_json(&text)?;
    let weights_path = manifest_path.parent().unwrap_or(Path::new(".")).join(&manifest.file);
    let weights = std::fs::read(&weights_path)
        .map_err(|error| CliError::ModelMissing { path: weights_path.clone(), detail: error.to_string() })?;
    Ok(Remover::load(&manifest, weights, device, size)?)
}
