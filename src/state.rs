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
