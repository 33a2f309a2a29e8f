use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::app::use_app;
use crate::browser::{blobs, canvas};
use crate::state::{Cutout, Item, Stage};

const JPEG_QUALITY: f64 = 0.92;

/// One image: its stage and elapsed time, then the cutout with a before/after slider, the
/// downloads and copy to clipboard; or the error.
#[component]
pub fn ItemCard(item: Item) -> impl IntoView {
    let state = use_app();
    let stage = item.stage;
    let elapsed = move || {
        let start = item.started_ms.get()?;
        let end = item.finished_ms.get().unwrap_or_else(|| state.now_ms.get());
        Some(format!("{:.1} s", ((end - start) / 1000.0).max(0.0)))
    };
    let stage_text = move || match stage.get() {
        Stage::Queued | Stage::Ready => "Queued".to_owned(),
        Stage::LoadingModel => "Waiting for the model".to_owned(),
        Stage::Processing => format!("Processing… {}", elapsed().unwrap_or_default()),
        Stage::Done => format!("Done in {}", elapsed().unwrap_or_default()),
        Stage::Error => "Could not process".to_owned(),
    };
    let name = item.name.clone();
    view! {
        <article class="item" data-testid="item" data-state=move || stage.get().id() data-name=item.name.clone()
            aria-label=format!("Image {}", item.name)>
            <header>
                <h2 title=item.name.clone()>{item.name.clone()}</h2>
                <span class="stage" class:done=move || stage.get() == Stage::Done
                    class:failed=move || stage.get() == Stage::Error>{stage_text}</span>
            </header>
            {move || item.error.get().map(|message| view! {
                <p class="error" data-testid="error" role="alert">{message}</p>
            })}
            {
                let original = item.original_url.clone();
                let name = name.clone();
                let saved = item.saved;
                move || item.result.get().map(|cutout| view! {
                    <ResultView cutout=cutout original=original.clone() name=name.clone() saved=saved />
                })
            }
            <Show when=move || matches!(stage.get(), Stage::Queued | Stage::Processing)>
                <div class="placeholder" aria-hidden="true">
                    <img src=item.original_url.clone() alt="" />
                </div>
            </Show>
        </article>
    }
}

#[component]
fn ResultView(cutout: Cutout, original: String, name: String, saved: RwSignal<bool>) -> impl IntoView {
    let state = use_app();
    let reveal = RwSignal::new(100.0f64);
    let message = RwSignal::new(None::<String>);
    let background_style = move || match state.background.get().css() {
        Some(colour) => format!("background: {colour};"),
        None => String::new(),
    };
    let png_url = cutout.png_url.clone();
    let mask_url = cutout.mask_url.clone();

    let save_flat = {
        let (png_url, name) = (png_url.clone(), name.clone());
        move |mime: &'static str, extension: &'static str| {
            let (png_url, name) = (png_url.clone(), name.clone());
            let background = state.background.get_untracked().css();
            // JPEG has no alpha: transparent means white there.
            let background = background.or_else(|| (mime == "image/jpeg").then(|| "#ffffff".to_owned()));
            spawn_local(async move {
                let result = async {
                    let png = blobs::fetch_blob(&png_url).await?;
                    let flat = canvas::flatten(&png, background.as_deref(), mime, JPEG_QUALITY).await?;
                    blobs::download_blob(&flat, &blobs::result_name(&name, "-cutout", extension))
                };
                let result = result.await;
                saved.update(|saved| *saved |= result.is_ok());
                message.set(result.err().map(|e| format!("Download failed: {e}")));
            });
        }
    };
    let save_png = {
        let (png_url, name) = (png_url.clone(), name.clone());
        let save_flat = save_flat.clone();
        move |_| match state.background.get_untracked().css() {
            None => {
                let result = blobs::download(&png_url, &blobs::result_name(&name, "-cutout", "png"));
                saved.update(|saved| *saved |= result.is_ok());
                message.set(result.err().map(|e| format!("Download failed: {e}")));
            }
            Some(_) => save_flat("image/png", "png"),
        }
    };
    let save_webp = {
        let save_flat = save_flat.clone();
        move |_| save_flat("image/webp", "webp")
    };
    let save_jpeg = move |_| save_flat("image/jpeg", "jpg");
    let save_mask = {
        let name = name.clone();
        move |_| {
            let result = blobs::download(&mask_url, &blobs::result_name(&name, "-mask", "png"));
            saved.update(|saved| *saved |= result.is_ok());
            message.set(result.err().map(|e| format!("Download failed: {e}")));
        }
    };
    let copy = {
        let png_url = png_url.clone();
        move |_| {
            let png_url = png_url.clone();
            spawn_local(async move {
                let result = async { blobs::copy_png(&blobs::fetch_blob(&png_url).await?).await };
                message.set(Some(match result.await {
                    Ok(()) => {
                        saved.set(true);
                        "Copied to the clipboard.".to_owned()
                    }
                    Err(e) => format!("Copy failed: {e}"),
                }));
            });
        }
    };
    view! {
        <div class="result">
            <div class="compare">
                <img class="before" src=original alt=format!("{name}, original") />
                <div class="after checkerboard"
                    style=move || format!("clip-path: inset(0 {}% 0 0); {}", 100.0 - reveal.get(), background_style())>
                    <img data-testid="result" src=png_url.clone() alt=format!("{name}, background removed") />
                </div>
            </div>
            <label class="slider">
                <span>"Before / after"</span>
                <input type="range" min="0" max="100" prop:value=move || reveal.get()
                    on:input=move |event| reveal.set(event_target_value(&event).parse().unwrap_or(100.0)) />
            </label>
            <p class="meta">
                {format!("{} × {} px · {} · {}", cutout.width, cutout.height, cutout.engine.label(), quality_label(cutout.network_size))}
            </p>
            {cutout.note.clone().map(|note| view! { <p class="note">{note}</p> })}
            <div class="downloads" role="group" aria-label="Downloads">
                <button class="primary" on:click=save_png>"PNG"</button>
                <button on:click=save_webp>"WebP"</button>
                <button on:click=save_jpeg>"JPEG"</button>
                <button on:click=save_mask>"Mask"</button>
                <button on:click=copy>"Copy"</button>
            </div>
            {move || message.get().map(|text| view! { <p class="note" role="status">{text}</p> })}
        </div>
    }
}

/// How the card names the network size an image ran at.
fn quality_label(size: u32) -> String {
    match size {
        1024 => "full detail".to_owned(),
        512 => "Fast (512)".to_owned(),
        other => format!("network at {other}"),
    }
}
