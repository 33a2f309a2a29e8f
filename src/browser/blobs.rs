//! Bytes to blob URLs, downloads and the clipboard.

use js_sys::{Array, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, BlobPropertyBag, HtmlAnchorElement, Url};

use super::BrowserError;

pub fn blob(bytes: &[u8], mime: &str) -> Result<Blob, BrowserError> {
    let parts = Array::of1(&Uint8Array::from(bytes));
    let options = BlobPropertyBag::new();
    options.set_type(mime);
    Ok(Blob::new_with_u8_array_sequence_and_options(&parts, &options)?)
}

pub fn object_url(blob: &Blob) -> Result<String, BrowserError> {
    Ok(Url::create_object_url_with_blob(blob)?)
}

pub fn revoke(url: &str) {
    let _ = Url::revoke_object_url(url);
}

/// The bytes behind a blob URL this page made (a local fetch: no request leaves the page).
pub async fn fetch_blob(url: &str) -> Result<Blob, BrowserError> {
    let window = web_sys::window().ok_or_else(|| BrowserError("no window".into()))?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str(url)).await?.unchecked_into();
    Ok(JsFuture::from(response.blob()?).await?.unchecked_into())
}

pub async fn blob_bytes(blob: &Blob) -> Result<Vec<u8>, BrowserError> {
    let buffer = JsFuture::from(blob.array_buffer()).await?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// Saves `url` under `file_name` through a temporary `<a download>`.
pub fn download(url: &str, file_name: &str) -> Result<(), BrowserError> {
    let document = web_sys::window().and_then(|w| w.document()).ok_or_else(|| BrowserError("no document".into()))?;
    let anchor: HtmlAnchorElement = document.create_element("a")?.unchecked_into();
    anchor.set_href(url);
    anchor.set_download(file_name);
    anchor.click();
    Ok(())
}

pub fn download_blob(blob: &Blob, file_name: &str) -> Result<(), BrowserError> {
    let url = object_url(blob)?;
    download(&url, file_name)?;
    // Revoke after the download has started, not before.
    let closure = wasm_bindgen::closure::Closure::once_into_js(move || revoke(&url));
    if let Some(window) = web_sys::window() {
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(closure.unchecked_ref(), 60_000);
    }
    Ok(())
}

/// Copies a PNG to the clipboard (the format every browser accepts there).
pub async fn copy_png(png: &Blob) -> Result<(), BrowserError> {
    let window = web_sys::window().ok_or_else(|| BrowserError("no window".into()))?;
    let clipboard = window.navigator().clipboard();
    let items = js_sys::Object::new();
    js_sys::Reflect::set(&items, &"image/png".into(), png)?;
    let item = web_sys::ClipboardItem::new_with_record_from_str_to_blob_promise(&items)?;
    JsFuture::from(clipboard.write(&Array::of1(&JsValue::from(item)))).await?;
    Ok(())
}

/// `photo.jpg` -> `photo-cutout.png`.
pub fn result_name(original: &str, suffix: &str, extension: &str) -> String {
    let stem = original.rsplit_once('.').map_or(original, |(stem, _)| stem);
    format!("{stem}{suffix}.{extension}")
}
