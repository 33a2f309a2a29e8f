//! Messages between the page and the worker. Serialized with serde-wasm-bindgen, so bytes cross
//! as `Uint8Array`s.

use serde::{Deserialize, Serialize};

/// Which engine the page asks for. `Auto` tries WebGPU (an adapter and a tiny test pass) and
/// falls back to the CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum EnginePreference {
    #[default]
    Auto,
    Webgpu,
    Cpu,
}

/// The engine that actually runs. Its `id` is the contract's `data-testid="engine"` text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    Webgpu,
    Cpu,
}

impl EngineKind {
    pub fn id(self) -> &'static str {
        match self {
            Self::Webgpu => "webgpu",
            Self::Cpu => "cpu",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Webgpu => "GPU (WebGPU)",
            Self::Cpu => "CPU (WebAssembly)",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ToWorker {
    /// Load the model and pick the engine. `size` is the network's side (default: the manifest's).
    Init { engine: EnginePreference, size: Option<usize> },
    /// Re-read the offline copy of the model and check its sha256 (the "Check offline readiness"
    /// action). If the copy is gone or damaged, says so and, when `online` (the page's view,
    /// which follows the browser's connection state), downloads it again.
    CheckModel { online: bool },
    /// Remove the offline copy of the model (Cache Storage and the readiness registry). The model
    /// already loaded keeps working until the page closes.
    DeleteModel,
    /// Download the model again and keep it for offline use.
    DownloadModel,
    /// Remove the background of one file.
    Process {
        id: u32,
        name: String,
        #[serde(with = "serde_bytes")]
        bytes: Vec<u8>,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum FromWorker {
    /// The worker's code is running and listening. Messages posted before this are lost, so
    /// the page holds them until it arrives.
    Listening,
    ModelProgress {
        loaded: u64,
        total: u64,
    },
    /// Where the offline copy of the model stands; `message` explains anything unusual.
    ModelStore {
        state: ModelStoreState,
        record: Option<ModelRecord>,
        message: Option<String>,
    },
    /// `threads`: how many threads the CPU engine uses (1 on WebGPU).
    Ready {
        engine: EngineKind,
        threads: u32,
        note: Option<String>,
    },
    /// The engine changed after a fault (the GPU was lost): the CPU takes the next images.
    EngineChanged {
        engine: EngineKind,
        note: String,
    },
    InitFailed {
        message: String,
    },
    Started {
        id: u32,
    },
    Done {
        id: u32,
        width: u32,
        height: u32,
        /// The cutout: RGBA PNG at the photo's full resolution.
        #[serde(with = "serde_bytes")]
        png: Vec<u8>,
        /// The mask alone, grayscale PNG.
        #[serde(with = "serde_bytes")]
        mask_png: Vec<u8>,
        engine: EngineKind,
        /// The side the network ran at (1024 = full detail, 512 = Fast).
        network_size: u32,
        /// Set when the GPU failed on this image and the CPU finished it.
        note: Option<String>,
        /// Requests the worker made while it processed this image (resource timing entries).
        requests: u32,
    },
    Failed {
        id: u32,
        message: String,
        requests: u32,
    },
}

/// The offline copy of the model, as the contract's `offline-ready` element reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelStoreState {
    /// No offline copy (never stored, deleted, or the browser would not keep it).
    Missing,
    Downloading,
    /// In Cache Storage and verified against the manifest's sha256.
    Stored,
    /// The registry says it was stored, but the cache is empty or its bytes are wrong: the browser
    /// evicted it (or something damaged it).
    Evicted,
}

/// One row of the readiness registry (IndexedDB): a model kept for offline use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRecord {
    pub id: String,
    /// The first 12 hex digits of the sha256: names the cache the weights live in.
    pub version: String,
    pub file: String,
    pub bytes: u64,
    pub sha256: String,
    /// Milliseconds since the Unix epoch.
    pub cached_at: f64,
    pub verified_at: f64,
}
