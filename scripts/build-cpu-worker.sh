#!/usr/bin/env bash
# Builds the threaded CPU worker (Trunk post_build hook, before stamp-offline.mjs): the worker's
# CPU engine on a rayon pool of Web Workers sharing one WebAssembly memory. Trunk cannot make it
# itself: it needs its own RUSTFLAGS (+atomics), a std rebuilt with them (-Z build-std, from the
# stable toolchain's rust-src; RUSTC_BOOTSTRAP lets stable take the flag) and wasm-bindgen's ES-module
# output (`--target web`) for wasm-bindgen-rayon's thread start-up. Without the WebGPU engine:
# wgpu cannot be built with atomics.
#
# Two builds of it, which differ only in the convolutions' multiply-add:
# - bgone-cpu-worker: relaxed SIMD's fused multiply-add (the `relaxed-simd` feature), for browsers
#   whose WebAssembly.validate accepts relaxed SIMD (Chromium);
# - bgone-cpu-worker-portable: a multiply and an add, for browsers with threads but without
#   relaxed SIMD, which would otherwise get the main worker's one thread.
# The page picks one (src/browser/worker_client.rs) and the service worker precaches only the one
# its browser can run (sw.js), with the same test.
#
# Writes, for each build NAME, NAME.js, NAME_bg.wasm and NAME_loader.js, and the thread helper
# snippet they share, into $TRUNK_STAGING_DIR (or the folder given as $1).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
out=${1:-${TRUNK_STAGING_DIR:?run this as a Trunk hook or give the output folder}}

if ! rustup component list --installed | grep -q '^rust-src'; then
  # Without the std sources there is no threaded build; the page then runs the CPU engine on the
  # main worker's one thread (it falls back when this worker's files are missing).
  rustup component add rust-src || { echo "bgone: rust-src unavailable: building without the threaded CPU worker" >&2; exit 0; }
fi
export CARGO_TARGET_DIR="$BGONE_CACHE/target-threads"
export RUSTC_BOOTSTRAP=1
# 4 GiB: the linker's default maximum for a shared memory is 1 GiB, less than a 1024 pass of a
# large photo can need.
export RUSTFLAGS="-C target-feature=+atomics,+bulk-memory,+mutable-globals,+simd128 -C link-arg=--max-memory=4294967296"
# The link arguments go to the final link only (cargo rustc): a shared, imported memory and the
# thread-local-storage exports that wasm-bindgen's thread support needs. rustc 1.95 no longer adds
# them by itself for +atomics.
# Both builds link the same bin; each is copied out before the other is linked.
build() {
  local name=$1 features=$2
  cargo rustc --release --target wasm32-unknown-unknown -Z build-std=panic_abort,std \
    --bin bgone-worker --no-default-features --features "$features" ${BGONE_CARGO_QUIET:+--quiet} -- \
    -C link-arg=--shared-memory -C link-arg=--import-memory \
    -C link-arg=--export=__wasm_init_tls -C link-arg=--export=__tls_size \
    -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base
  wasm-bindgen --target web --no-typescript --out-dir "$out" --out-name "$name" \
    "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/bgone-worker.wasm"
  loader "$name"
}
# wasm-bindgen-rayon 1.3.0's thread helper starts each thread with `init(module, memory)`, the
# form this wasm-bindgen deprecates: every thread printed "using deprecated parameters for the
# initialization function" to the page's console. Given as the one object it asks for instead.
# (A later helper that has it already is left alone; app.test.mjs fails on the warning.)
#
# Each pool thread runs rayon's loop from that helper's `async` callback, so a trap in it (most
# likely out of memory in the middle of a pass) was a rejected promise in that thread: nobody
# heard of it, and the worker, then the page, waited for ever for the pass. Reported as the
# thread's uncaught error instead, it reaches this worker's global as a nested worker's error,
# then the page as the worker's crash, which it names and recovers from (faults.test.mjs).
patch_helpers() {
for helper in "$out"/snippets/wasm-bindgen-rayon-*/src/workerHelpers.no-bundler.js; do
  sed -i -e 's/await pkg\.default(data\.module, data\.memory);/await pkg.default({ module_or_path: data.module, memory: data.memory });/' \
    -e 's/^\( *\)pkg\.wbg_rayon_start_worker(data\.receiver);/\1try { pkg.wbg_rayon_start_worker(data.receiver); } catch (error) { reportError(error); }/' "$helper"
  grep -q 'catch (error) { reportError(error); }' "$helper" \
    || { echo "bgone: $helper starts its threads in a way this script does not know: check that a trap in a pool thread still reaches the page" >&2; exit 1; }
done
}
# A module worker: the page starts it with `new Worker(url, { type: "module" })`; it asks the page
# for its WebAssembly, which the page compiles (`{ bgoneModule }`, or `{ bgoneModuleError }`; see
# src/browser/worker_client.rs). It asks once it listens: a message that reached it before its
# script ran would be lost. Like the main worker's `wasm_bindgen` global,
# `self.wasm_bindgen()` gives its exports (tests read the memory).
loader() {
  sed "s|__GLUE__|./$1.js|" > "$out/$1_loader.js" <<'JS'
import init from "__GLUE__";
// A trap (most likely out of memory) in a task resumed by another thread, as after the pool's
// pass, surfaces as a rejected promise: wasm-bindgen-futures resumes such a task in a promise
// callback. Unhandled, the page would never hear of it and wait for ever; thrown again here it is
// an uncaught error, which the page gets as the worker's crash, names and recovers from.
self.addEventListener("unhandledrejection", (event) => {
  if (event.reason instanceof WebAssembly.RuntimeError) throw event.reason;
});
// A crash (an uncaught error here, or in a pool thread, whose error reaches this global) is also
// told to the page in order with the worker's messages, after its last "started": the browser's
// own error event comes another way and can overtake them (src/browser/worker_client.rs).
self.addEventListener("error", (event) => self.postMessage({ bgoneCrash: String(event.message) }));
const module = await new Promise((resolve, reject) => {
  self.addEventListener("message", function first(event) {
    const data = event.data;
    if (!data || !("bgoneModule" in data || "bgoneModuleError" in data)) return;
    self.removeEventListener("message", first);
    event.stopImmediatePropagation();
    if (data.bgoneModule instanceof WebAssembly.Module) resolve(data.bgoneModule);
    else reject(new Error(`the CPU engine could not be compiled: ${data.bgoneModuleError}`));
  });
  self.postMessage({ bgoneWantsModule: true });
});
const exports = await init({ module_or_path: module });
self.wasm_bindgen = async () => exports;
JS
}

build bgone-cpu-worker threads,relaxed-simd
build bgone-cpu-worker-portable threads
patch_helpers
echo "bgone: threaded CPU worker built (with and without relaxed SIMD)"
