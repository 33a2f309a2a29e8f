//! Reading a response body into WebAssembly memory chunk by chunk. `Response.arrayBuffer()`
//! would first hold the whole 88 MB model in JavaScript memory beside the copy in WebAssembly;
//! streaming keeps only one chunk there at a time (the page's peak memory is a benchmark target).

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReadableStream, ReadableStreamDefaultReader};

/// Reads `body` to its end. `expected` sizes the buffer up front; `on_chunk` gets the bytes read
/// so far after every chunk.
pub async fn read_all(body: ReadableStream, expected: usize, mut on_chunk: impl FnMut(&[u8])) -> Result<Vec<u8>, JsValue> {
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut bytes = Vec::with_capacity(expected);
    loop {
        let chunk = JsFuture::from(reader.read()).await?;
        if Reflect::get(&chunk, &"done".into())?.as_bool().unwrap_or(true) {
            break;
        }
        let value: Uint8Array = Reflect::get(&chunk, &"value".into())?.unchecked_into();
        let (start, len) = (bytes.len(), value.length() as usize);
        bytes.reserve(len);
        // Straight into the spare capacity: zero-filling the 88 MB first would write it twice.
        value.copy_to_uninit(&mut bytes.spare_capacity_mut()[..len]);
        // SAFETY: `copy_to_uninit` initialised these `len` bytes.
        unsafe { bytes.set_len(start + len) };
        on_chunk(&bytes);
    }
    Ok(bytes)
}
