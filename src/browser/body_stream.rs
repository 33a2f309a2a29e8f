//! Reading a response body into WebAssembly memory chunk by chunk. `Response.arrayBuffer()`
//! would first hold the whole 88 MB model in JavaScript memory beside the copy in WebAssembly;
//! streaming keeps only one chunk there at a time (the page's peak memory is a benchmark target).
//!
//! Where the body is a byte stream (Chromium's fetch and Cache Storage bodies are), it is read
//! with a BYOB reader into one buffer of our own, again and again: the default reader hands over
//! a new buffer per chunk, 88 MB of them for the model, which the garbage collector then frees
//! beside the first pass. With one buffer a return visit's model is ready sooner and its first
//! pass is slowed less (measured in the README, Model cache).

use js_sys::{ArrayBuffer, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReadableStream, ReadableStreamByobReader, ReadableStreamDefaultReader};

/// The size of the one buffer a byte stream is read into: a read fills what has arrived, up to
/// this (Cache Storage hands the model over as it arrives, about 400 KB a read on average).
const PIECE: u32 = 4 << 20;

/// Reads `body` to its end. `expected` sizes the buffer up front; `on_chunk` gets the bytes read
/// so far after every chunk.
pub async fn read_all(body: ReadableStream, expected: usize, on_chunk: impl FnMut(&[u8])) -> Result<Vec<u8>, JsValue> {
    let mut bytes = Vec::with_capacity(expected);
    append_all(body, &mut bytes, on_chunk).await?;
    Ok(bytes)
}

/// Reads `body` to its end onto the end of `bytes`; `on_chunk` gets all of `bytes` after every
/// chunk. If the stream breaks off, `bytes` keeps what arrived before (a download to resume).
pub async fn append_all(body: ReadableStream, bytes: &mut Vec<u8>, on_chunk: impl FnMut(&[u8])) -> Result<(), JsValue> {
    match ReadableStreamByobReader::new(&body) {
        Ok(reader) => read_into_one_buffer(reader, bytes, on_chunk).await,
        Err(_) => read_chunks(body, bytes, on_chunk).await,
    }
}

/// A byte stream read into one buffer: each read takes the buffer and hands it back (transferred,
/// under a new `ArrayBuffer`) filled with the next bytes.
async fn read_into_one_buffer(
    reader: ReadableStreamByobReader,
    bytes: &mut Vec<u8>,
    mut on_chunk: impl FnMut(&[u8]),
) -> Result<(), JsValue> {
    let mut buffer = ArrayBuffer::new(PIECE);
    loop {
        let chunk = JsFuture::from(reader.read_with_array_buffer_view(&Uint8Array::new(&buffer))).await?;
        let done = Reflect::get(&chunk, &"done".into())?.as_bool().unwrap_or(true);
        let Ok(value) = Reflect::get(&chunk, &"value".into())?.dyn_into::<Uint8Array>() else { break };
        if value.length() > 0 {
            append(bytes, &value);
            on_chunk(bytes);
        }
        if done {
            break;
        }
        buffer = value.buffer();
    }
    Ok(())
}

/// Any other stream, a new buffer per chunk.
async fn read_chunks(body: ReadableStream, bytes: &mut Vec<u8>, mut on_chunk: impl FnMut(&[u8])) -> Result<(), JsValue> {
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    loop {
        let chunk = JsFuture::from(reader.read()).await?;
        if Reflect::get(&chunk, &"done".into())?.as_bool().unwrap_or(true) {
            break;
        }
        let value: Uint8Array = Reflect::get(&chunk, &"value".into())?.unchecked_into();
        append(bytes, &value);
        on_chunk(bytes);
    }
    Ok(())
}

/// Copies `value` onto the end of `bytes`, straight into the spare capacity: zero-filling the 88
/// MB first would write it twice.
fn append(bytes: &mut Vec<u8>, value: &Uint8Array) {
    let (start, len) = (bytes.len(), value.length() as usize);
    bytes.reserve(len);
    value.copy_to_uninit(&mut bytes.spare_capacity_mut()[..len]);
    // SAFETY: `copy_to_uninit` initialised these `len` bytes.
    unsafe { bytes.set_len(start + len) };
}
