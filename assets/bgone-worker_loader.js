// The main worker's loader (src/worker/main.rs, built by Trunk as a `no-modules` worker). It is
// what Trunk's `data-loader-shim` writes, but with the init call in the object form this
// wasm-bindgen asks for: the shim's `wasm_bindgen(url)` printed a deprecation warning on every
// start. `self.wasm_bindgen()` gives the exports once loaded (tests read the memory).
// A crash (an uncaught error: a trap, most likely out of memory) is also told to the page in order
// with the worker's messages, after its last "started": the browser's own error event comes another
// way and can overtake them (src/browser/worker_client.rs, `crash_report`).
self.addEventListener("error", (event) => self.postMessage({ bgoneCrash: String(event.message) }));
importScripts("./bgone-worker.js");
wasm_bindgen({ module_or_path: "./bgone-worker_bg.wasm" });
