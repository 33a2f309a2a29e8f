//! When the GPU fails, the CPU engine on every core. The main worker (the one with WebGPU) has a
//! CPU engine of its own, on one thread: it finishes the image the GPU failed on, but where the
//! page can run the threaded CPU worker (cross-origin isolated), that one takes the rest, and so
//! the next images run on every core instead of one (on 2 cores a warm cutout 1.5-1.6 s instead
//! of 3.1 s; more cores widen the gap). Two cases: the GPU fails as the engine starts (no
//! adapter, a failed test pass: the main worker says it is ready on the CPU), and the GPU is lost
//! during an image (the main worker says the engine changed, then finishes that image). A new
//! start (the engine menu, the quality, a reload) tries the GPU again.

use leptos::prelude::*;

use super::AppState;
use crate::browser::worker_client;
use crate::protocol::{EngineKind, EnginePreference};

impl AppState {
    /// The preference the next worker starts with: the CPU once the GPU failed in this start.
    pub(super) fn running_preference(&self) -> EnginePreference {
        if self.gpu_failed.with_value(Option::is_some) { EnginePreference::Cpu } else { self.preference.get_untracked() }
    }

    /// The main worker is ready on its one-thread CPU engine though the GPU was asked for (or
    /// the choice left to the page): the threaded CPU worker starts instead, with every image
    /// not done yet, and the worker's reason is kept for the engine's note. True if it did.
    pub(super) fn cpu_instead_of_gpu(self, engine: EngineKind, note: &Option<String>) -> bool {
        let gpu_asked = self.running_preference() != EnginePreference::Cpu;
        if engine != EngineKind::Cpu || !gpu_asked || !self.main_worker_runs() || !worker_client::threads_possible() {
            return false;
        }
        self.gpu_failed.set_value(Some(note.clone().unwrap_or_else(|| "Using the CPU: the GPU could not start.".into())));
        self.spawn_worker();
        true
    }

    /// The GPU was lost during an image (the worker finishes it on its CPU engine): once that
    /// image is done, the threaded CPU worker takes the rest.
    pub(super) fn gpu_lost(self, engine: EngineKind, note: &str) {
        let first_loss = self.gpu_failed.with_value(Option::is_none);
        if engine == EngineKind::Cpu && first_loss && self.main_worker_runs() && worker_client::threads_possible() {
            self.gpu_failed.set_value(Some(note.to_owned()));
            self.switch_after_image.set_value(true);
        }
    }

    fn main_worker_runs(&self) -> bool {
        self.worker.with_value(|worker| worker.as_ref().is_some_and(|worker| worker.is_main()))
    }

    /// After an image's result is shown (so that it is not sent again): the switch that
    /// [`Self::gpu_lost`] put off, if one is due.
    pub(super) fn switch_if_due(self) {
        if self.switch_after_image.get_value() {
            self.switch_after_image.set_value(false);
            self.spawn_worker();
        }
    }
}
