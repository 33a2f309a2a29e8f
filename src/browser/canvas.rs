//! JPEG and WebP downloads, made by the browser's own encoders from the PNG cutout: drawing it
//! over the chosen colour on a canvas costs one pass and no extra wasm memory.

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, CanvasRenderingContext2d, HtmlCanvasElement, ImageBitmap};

use super::BrowserError;

pub async fn flatten(png: &Blob, background: Option<&str>, mime: &str, quality: f64) -> Result<Blob, BrowserError> {
    let window = web_sys::window().ok_or_else(|| BrowserError("no window".into()))?;
    let bitmap: ImageBitmap = JsFuture::from(window.create_image_bitmap_with_blob(png)?).await?.unchecked_into();
    let document = window.document().ok_or_else(|| BrowserError("no document".into()))?;
    let canvas: HtmlCanvasElement = document.create_element("canvas")?.unchecked_into();
    canvas.set_width(bitmap.width());
    canvas.set_height(bitmap.height());
    let context: CanvasRenderingContext2d =
        canvas.get_context("2d")?.ok_or_else(|| BrowserError("this browser cannot draw on a canvas".into()))?.unchecked_into();
    if let Some(colour) = background {
        context.set_fill_style_str(colour);
        context.fill_rect(0.0, 0.0, f64::from(bitmap.width()), f64::from(bitmap.height()));
    }
    context.draw_image_with_image_bitmap(&bitmap, 0.0, 0.0)?;
    bitmap.close();

    let (sender, receiver) = futures_channel::oneshot::channel::<Option<Blob>>();
    let callback = Closure::once_into_js(move |blob: JsValue| {
        let _ = sender.send(blob.dyn_into::<Blob>().ok());
    });
    canvas.to_blob_with_type_and_encoder_options(callback.unchecked_ref(), mime, &JsValue::from_f64(quality))?;
    receiver.await.ok().flatten().ok_or_else(|| BrowserError(format!("this browser cannot encode {mime}")))
}
