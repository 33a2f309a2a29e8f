//! The worker's static constructors, run once as it starts.
//!
//! pliron (the IR under cubecl's kernel compiler, in the WebGPU engine) registers its operations
//! with `inventory`, that is with static constructors. With no call to them in our code, the
//! linker takes the worker for a "command", a module called into once, and wraps every function
//! the worker exports so that it runs every constructor first. Every call from JavaScript into
//! the worker did: each JavaScript object handed to it, each promise callback, each WebGPU object
//! made. Calling them here tells the linker that they are taken care of, as inventory's
//! documentation asks of a module that is called into many times. Measured on SwiftShader
//! (README, Engines): a 64x64 cutout took 3.4-3.6 s with the wrappers and 1.1-1.2 s without, and
//! the model's read from Cache Storage 0.4 s against 0.06 s.

use std::sync::atomic::{AtomicU32, Ordering};
use wasm_bindgen::prelude::wasm_bindgen;

/// How many times the constructors have run in this instance (counted by [`count_run`]).
static RUNS: AtomicU32 = AtomicU32::new(0);

/// A constructor of our own, so the count above says how often the linker's constructor
/// function ran: once, unless exported functions run it again (the tests check this).
#[used]
#[unsafe(link_section = ".init_array")]
static COUNT_RUN: extern "C" fn() = count_run;

extern "C" fn count_run() {
    RUNS.fetch_add(1, Ordering::Relaxed);
}

/// Runs the static constructors. Call it once, first thing, before any other code of ours.
pub fn run_once() {
    unsafe extern "C" {
        fn __wasm_call_ctors();
    }
    // SAFETY: the linker's function that runs every static constructor, called once as the worker
    // starts, before anything that reads what they register.
    unsafe { __wasm_call_ctors() }
}

/// How many times the static constructors have run: 1 in a worker that is working as it should.
#[wasm_bindgen]
pub fn constructor_runs() -> u32 {
    RUNS.load(Ordering::Relaxed)
}
