//! bgone in the browser. The page (`bgone-web`) is a Leptos app that only shows and moves bytes;
//! the worker (`bgone-worker`) runs the removal core. `protocol` is what they say to each other;
//! `restarts`, when the page starts another worker after one dies.

pub mod protocol;
pub mod restarts;

#[cfg(all(target_arch = "wasm32", feature = "page"))]
pub mod app;
#[cfg(target_arch = "wasm32")]
pub mod browser;
#[cfg(all(target_arch = "wasm32", feature = "page"))]
pub mod components;
#[cfg(target_arch = "wasm32")]
pub mod offline;
#[cfg(all(target_arch = "wasm32", feature = "page"))]
pub mod state;
