//! The GPUs this browser has seen run the network correctly, so that the WebGPU engine runs its
//! test pass once per GPU, not at every start: on SwiftShader that pass was 4.0-4.7 s of every
//! return visit's start. The key describes the adapter, the browser and the app's version
//! (`key`), so a new GPU, driver path, browser or app version is tested again; a pass that later
//! fails on that GPU takes its record away (the worker's runtime does).

use serde::{Deserialize, Serialize};

use super::OfflineError;
use super::database::{self, GPU_PASSES};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct GpuPass {
    key: String,
    /// When the test pass succeeded (ms since the Unix epoch).
    passed_at: f64,
}

/// The key for one adapter (`GPUAdapterInfo`'s vendor, architecture, device and description),
/// in one browser (its user agent, which names its version) with one version of the app's
/// engine and model (`engine`: the caller's version and the model's checksum).
pub fn key(adapter: &[String], user_agent: &str, engine: &str) -> String {
    format!("{} | {user_agent} | {engine}", adapter.join(" / "))
}

/// Whether the GPU under `key` has passed before. A storage that cannot be read counts as no:
/// the test pass then runs, as on a first visit.
pub async fn has_passed(key: &str) -> bool {
    matches!(database::get(&GPU_PASSES, key).await, Ok(Some(_)))
}

/// Notes that the GPU under `key` ran the network correctly.
pub async fn record(key: &str) -> Result<(), OfflineError> {
    let record = GpuPass { key: key.to_owned(), passed_at: super::now_epoch_ms() };
    let value = serde_wasm_bindgen::to_value(&record).map_err(|error| OfflineError::Storage(error.to_string()))?;
    database::put(&GPU_PASSES, &value).await
}

/// Takes the record of the GPU under `key` away: its next start runs the test pass again.
pub async fn forget(key: &str) -> Result<(), OfflineError> {
    database::delete(&GPU_PASSES, key).await
}
