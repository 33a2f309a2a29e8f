//! The page's state: what each dropped image is doing and what the page as a whole is doing.

use leptos::prelude::*;

use crate::protocol::EngineKind;

/// The contract's `data-state` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    LoadingModel,
    Ready,
    Queued,
    Processing,
    Done,
    Error,
}

impl Stage {
    pub fn id(self) -> &'static str {
        match self {
            Self::LoadingModel => "loading-model",
            Self::Ready | Self::Queued => "ready",
            Self::Processing => "processing",
            Self::Done => "done",
            Self::Error => "error",
        }
    }
}

/// A finished image: blob URLs the page shows and the user downloads.
#[derive(Debug, Clone, PartialEq)]
pub struct Cutout {
    pub png_url: String,
    pub mask_url: String,
    pub width: u32,
    pub height: u32,
    pub engine: EngineKind,
    pub network_size: u32,
    pub note: Option<String>,
}

/// One dropped file.
#[derive(Debug, Clone)]
pub struct Item {
    pub id: u32,
    pub name: String,
    /// The original photo, for the before/after view.
    pub original_url: String,
    pub stage: RwSignal<Stage>,
    pub started_ms: RwSignal<Option<f64>>,
    pub finished_ms: RwSignal<Option<f64>>,
    pub result: RwSignal<Option<Cutout>>,
    pub error: RwSignal<Option<String>>,
    /// Downloaded or copied at least once: leaving the page loses nothing of this one.
    pub saved: RwSignal<bool>,
}

/// Model download progress in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ModelProgress {
    pub loaded: u64,
    pub total: u64,
}

/// What the page as a whole is doing, for the `status` element.
#[derive(Debug, Clone, PartialEq)]
pub enum PageStatus {
    LoadingModel,
    Ready,
    Failed(String),
}

/// What the user sees behind the subject, and what JPEG and WebP downloads are flattened onto.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackgroundChoice {
    Transparent,
    White,
    Colour(String),
}

impl BackgroundChoice {
    /// A CSS colour, or `None` for transparent.
    pub fn css(&self) -> Option<String> {
        match self {
            Self::Transparent => None,
            Self::White => Some("#ffffff".into()),
            Self::Colour(colour) => Some(colour.clone()),
        }
    }
}

/// The model's offline copy, as the worker last reported it.
#[derive(Debug, Clone, PartialEq)]
pub struct OfflineModel {
    pub state: crate::protocol::ModelStoreState,
    pub record: Option<crate::protocol::ModelRecord>,
    pub message: Option<String>,
}

impl Default for OfflineModel {
    fn default() -> Self {
        Self { state: crate::protocol::ModelStoreState::Missing, record: None, message: None }
    }
}

/// The app shell's offline cache, as the service worker reports it.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ShellState {
    #[default]
    Unknown,
    /// A first visit: the service worker is registered once the model is in (`app::offline`).
    AfterModel,
    Installing,
    Cached(crate::offline::service_worker::ShellStatus),
    Failed(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StorageState {
    pub estimate: Option<crate::offline::storage::Estimate>,
    /// Whether the browser promised to keep this site's data; `None` if it cannot say.
    pub persisted: Option<bool>,
}

/// Requests made while the last image was processed, by who made them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestCount {
    pub page: u32,
    pub worker: u32,
    /// Requests the service worker let through to the network; `None` without a service worker.
    pub service_worker: Option<u32>,
}

impl RequestCount {
    pub fn total(&self) -> u32 {
        self.page + self.worker + self.service_worker.unwrap_or(0)
    }
}
