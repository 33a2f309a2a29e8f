// The main worker's loader (src/worker/main.rs, built by Trunk as a `no-modules` worker). It is
// what Trunk's `data-loader-shim` writes, but with the init call in the object form this
// wasm-bindgen asks for: the shim's `wasm_bindgen(url)` printed a deprecation warning on every
// start. `self.wasm_bindgen()` gives the exports once loaded (tests read the memory).
importScripts("./bgone-worker.js");
wasm_bindgen({ module_or_path: "./bgone-worker_bg.wasm" });
