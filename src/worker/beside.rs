//! Work begun now and awaited later, so that it runs beside what the worker does meanwhile (the
//! registry's read beside the model's, the GPU's start and test beside the weights' read).

use std::future::Future;

/// Starts `work` on this thread's executor at once and returns its result when awaited; `None`
/// only if the work was dropped unfinished.
pub fn begin<T: 'static>(work: impl Future<Output = T> + 'static) -> impl Future<Output = Option<T>> {
    let (answer, answered) = futures_channel::oneshot::channel();
    wasm_bindgen_futures::spawn_local(async move {
        let _ = answer.send(work.await);
    });
    async move { answered.await.ok() }
}
