//! The Web Worker: loads the model, picks the engine, and turns dropped files into cutouts, so
//! the page never freezes. Built by Trunk from index.html (`data-type="worker"`).

#[cfg(target_arch = "wasm32")]
mod beside;
#[cfg(target_arch = "wasm32")]
mod constructors;
#[cfg(target_arch = "wasm32")]
mod engine;
#[cfg(target_arch = "wasm32")]
mod gpu_trust;
#[cfg(target_arch = "wasm32")]
mod model_fetch;
#[cfg(target_arch = "wasm32")]
mod model_source;
#[cfg(target_arch = "wasm32")]
mod runtime;
#[cfg(target_arch = "wasm32")]
mod startup_steps;
#[cfg(all(target_arch = "wasm32", not(feature = "threads")))]
mod store_in_flight;

#[cfg(target_arch = "wasm32")]
fn main() {
    constructors::run_once();
    runtime::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("bgone-worker runs in the browser; build it with Trunk (see README).");
}
