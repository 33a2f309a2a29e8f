//! Counts the requests a page or worker makes, from its resource timing entries (a
//! `PerformanceObserver`), so the privacy panel can show how many left while an image was
//! processed. Local `blob:` and `data:` reads are not requests and are not counted.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use web_sys::{PerformanceEntry, PerformanceObserver, PerformanceObserverEntryList, PerformanceObserverInit};

/// Start times (`performance.now()`) of every request since the log was made.
pub struct RequestLog {
    starts: Rc<RefCell<Vec<f64>>>,
    observer: Option<PerformanceObserver>,
    _callback: Option<Closure<dyn FnMut(PerformanceObserverEntryList)>>,
}

fn leaves_the_device(name: &str) -> bool {
    name.starts_with("http:") || name.starts_with("https:")
}

impl RequestLog {
    /// Observes from now on (and the entries already buffered). Without a `PerformanceObserver`
    /// the log stays empty.
    pub fn start() -> Self {
        let starts = Rc::new(RefCell::new(Vec::new()));
        let sink = starts.clone();
        let callback = Closure::<dyn FnMut(PerformanceObserverEntryList)>::new(move |list: PerformanceObserverEntryList| {
            for entry in list.get_entries().iter() {
                let entry: PerformanceEntry = entry.unchecked_into();
                if leaves_the_device(&entry.name()) {
                    sink.borrow_mut().push(entry.start_time());
                }
            }
        });
        let Ok(observer) = PerformanceObserver::new(callback.as_ref().unchecked_ref()) else {
            return Self { starts, observer: None, _callback: None };
        };
        // `{type, buffered}` (web-sys only models the older `{entryTypes}` form).
        let options = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&options, &"type".into(), &"resource".into());
        let _ = js_sys::Reflect::set(&options, &"buffered".into(), &true.into());
        observer.observe(options.unchecked_ref::<PerformanceObserverInit>());
        Self { starts, observer: Some(observer), _callback: Some(callback) }
    }

    /// Delivers entries the observer has not reported yet (its callback runs later otherwise).
    fn flush(&self) {
        if let Some(observer) = &self.observer {
            for entry in observer.take_records().iter() {
                let entry: PerformanceEntry = entry.unchecked_into();
                if leaves_the_device(&entry.name()) {
                    self.starts.borrow_mut().push(entry.start_time());
                }
            }
        }
    }

    /// Requests that started in `from..=to` (`performance.now()` times).
    pub fn count_between(&self, from: f64, to: f64) -> u32 {
        self.flush();
        self.starts.borrow().iter().filter(|start| (from..=to).contains(*start)).count() as u32
    }
}

impl Drop for RequestLog {
    fn drop(&mut self) {
        if let Some(observer) = &self.observer {
            observer.disconnect();
        }
    }
}

/// `performance.now()` in a window or a worker.
pub fn now_ms() -> f64 {
    js_sys::Reflect::get(&js_sys::global(), &"performance".into())
        .ok()
        .and_then(|performance| performance.dyn_into::<web_sys::Performance>().ok())
        .map_or(0.0, |performance| performance.now())
}
