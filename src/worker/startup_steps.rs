//! Where the worker's start-up goes: each step's time, printed with the "model ready" line, so a
//! slow start can be read off the page's console (the benchmark prints it too).

use std::cell::RefCell;

use bgone_web::offline::request_log::now_ms;

thread_local! {
    /// The steps so far, and when the last one ended.
    static STEPS: RefCell<(Vec<(&'static str, f64)>, f64)> = const { RefCell::new((Vec::new(), 0.0)) };
}

/// Starts a new list of steps.
pub fn begin() {
    STEPS.with(|steps| *steps.borrow_mut() = (Vec::new(), now_ms()));
}

/// Ends the step called `name`: the time since the last step ended (or since [`begin`]).
pub fn step(name: &'static str) {
    let now = now_ms();
    STEPS.with(|steps| {
        let (list, last) = &mut *steps.borrow_mut();
        list.push((name, now - *last));
        *last = now;
    });
}

/// Notes the step called `name`, `ms` long, that ran beside the others (the WebGPU device's start
/// and test while the weights are read): the others' clock goes on from where it was.
#[cfg_attr(not(feature = "webgpu"), allow(dead_code))]
pub fn beside(name: &'static str, ms: f64) {
    STEPS.with(|steps| steps.borrow_mut().0.push((name, ms)));
}

/// "read 120, check 80, ..." (milliseconds).
pub fn summary() -> String {
    STEPS.with(|steps| {
        let (list, _) = &*steps.borrow();
        list.iter().map(|(name, ms)| format!("{name} {ms:.0}")).collect::<Vec<_>>().join(", ")
    })
}
