use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::app::use_app;
use crate::browser::{blobs, zip_all};
use crate::state::BackgroundChoice;

/// The background for all results, and "Download all" as a ZIP.
#[component]
pub fn Toolbar() -> impl IntoView {
    let state = use_app();
    let colour = RwSignal::new("#3b82f6".to_owned());
    let zip_error = RwSignal::new(None::<String>);
    let finished = move || state.items.with(|items| items.iter().filter(|item| item.result.get().is_some()).count());
    let download_all = move |_| {
        let results: Vec<(String, String)> = state.items.with_untracked(|items| {
            items
                .iter()
                .filter_map(|item| item.result.get_untracked().map(|r| (blobs::result_name(&item.name, "", "png"), r.png_url)))
                .collect()
        });
        spawn_local(async move {
            let mut files = Vec::new();
            for (name, url) in results {
                match blobs::fetch_blob(&url).await {
                    Ok(blob) => match blobs::blob_bytes(&blob).await {
                        Ok(bytes) => files.push((name, bytes)),
                        Err(error) => return zip_error.set(Some(error.to_string())),
                    },
                    Err(error) => return zip_error.set(Some(error.to_string())),
                }
            }
            let result = zip_all::zip(&files)
                .and_then(|zip| blobs::blob(&zip, "application/zip"))
                .and_then(|blob| blobs::download_blob(&blob, "bgone-cutouts.zip"));
            if result.is_ok() {
                state.items.with_untracked(|items| {
                    items.iter().filter(|item| item.result.get_untracked().is_some()).for_each(|item| item.saved.set(true));
                });
            }
            zip_error.set(result.err().map(|e| e.to_string()));
        });
    };
    let choose = move |choice: BackgroundChoice| state.background.set(choice);
    view! {
        <section class="toolbar" aria-label="Options">
            <fieldset class="backgrounds">
                <legend>"Background"</legend>
                <label>
                    <input type="radio" name="background" checked=move || state.background.get() == BackgroundChoice::Transparent
                        on:change=move |_| choose(BackgroundChoice::Transparent) />
                    "Transparent"
                </label>
                <label>
                    <input type="radio" name="background" checked=move || state.background.get() == BackgroundChoice::White
                        on:change=move |_| choose(BackgroundChoice::White) />
                    "White"
                </label>
                <label>
                    <input type="radio" name="background"
                        checked=move || matches!(state.background.get(), BackgroundChoice::Colour(_))
                        on:change=move |_| choose(BackgroundChoice::Colour(colour.get_untracked())) />
                    "Colour"
                </label>
                <input type="color" aria-label="Background colour" prop:value=move || colour.get()
                    on:input=move |event| {
                        let value = event_target_value(&event);
                        colour.set(value.clone());
                        choose(BackgroundChoice::Colour(value));
                    } />
            </fieldset>
            <Show when=move || { finished() > 1 }>
                <button class="primary" on:click=download_all>
                    {move || format!("Download all ({}) as ZIP", finished())}
                </button>
            </Show>
            {move || zip_error.get().map(|error| view! { <p class="error" role="alert">{error}</p> })}
        </section>
    }
}
