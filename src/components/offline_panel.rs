use leptos::prelude::*;

use crate::app::use_app;
use crate::protocol::ModelStoreState;
use crate::state::ShellState;

fn date(epoch_ms: f64) -> String {
    let date = js_sys::Date::new(&epoch_ms.into());
    date.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED).into()
}

/// Whether the app works offline, and the model's offline copy: check it, delete it, download it
/// again; storage used and available, and whether the browser promised to keep it.
#[component]
pub fn OfflinePanel() -> impl IntoView {
    let state = use_app();
    let headline = move || match state.offline_ready() {
        "yes" => "Ready to work offline",
        "downloading" => "Getting ready to work offline…",
        "evicted" => "The offline copy of the model is gone",
        _ => "Not ready to work offline yet",
    };
    let shell = move || match state.shell.get() {
        ShellState::AfterModel => "App files: saved for offline use once the model is in".to_owned(),
        ShellState::Unknown | ShellState::Installing => "App files: being saved for offline use…".to_owned(),
        ShellState::Cached(status) => format!("App files: saved ({} files, version {})", status.files, status.build),
        ShellState::Failed(message) => format!("App files: {message}"),
    };
    let model = move || {
        let model = state.model_store.get();
        match (model.state, model.record) {
            (ModelStoreState::Stored, Some(record)) => format!(
                "Model: saved ({:.1} MB, sha256 {}…), saved {}, last checked {}",
                record.bytes as f64 / 1e6,
                &record.sha256[..12.min(record.sha256.len())],
                date(record.cached_at),
                date(record.verified_at)
            ),
            (ModelStoreState::Stored, None) => "Model: saved".to_owned(),
            // Downloaded, and being written to the browser's storage while the app already uses it.
            (ModelStoreState::Downloading, _) if state.progress.with(|p| p.total != 0 && p.loaded >= p.total) => {
                "Model: downloaded, being saved for offline use…".to_owned()
            }
            (ModelStoreState::Downloading, _) => "Model: downloading…".to_owned(),
            (ModelStoreState::Evicted, _) => "Model: removed by the browser".to_owned(),
            (ModelStoreState::Missing, _) => "Model: not saved on this device".to_owned(),
        }
    };
    let persisted = move || match state.storage.get().persisted {
        Some(true) => "Persistent storage: granted (the browser will not remove the model on its own)",
        Some(false) => "Persistent storage: not granted (the browser may remove the model when space runs low)",
        None => "Persistent storage: unknown",
    };
    view! {
        <section class="panel offline" aria-labelledby="offline-title">
            <h2 id="offline-title">"Offline"</h2>
            <p class="offline-ready" data-testid="offline-ready" data-state=move || state.offline_ready() role="status">
                {headline}
            </p>
            <Show when=move || !state.online.get()>
                <p class="note">"You are offline. Everything here keeps working once the app and model are saved."</p>
            </Show>
            {move || state.model_store.get().message.map(|message| view! { <p class="note" data-testid="offline-message">{message}</p> })}
            <ul class="facts">
                <li>{shell}</li>
                <li>{model}</li>
                <li>{move || state.storage_text()}</li>
                <li>{persisted}</li>
            </ul>
            <div class="actions">
                <button type="button" data-testid="check-readiness" on:click=move |_| state.check_readiness()>
                    "Check offline readiness"
                </button>
                <button type="button" data-testid="download-model" on:click=move |_| state.download_model()>
                    "Download again"
                </button>
                <button type="button" data-testid="delete-model" on:click=move |_| state.delete_model()>
                    "Delete model"
                </button>
                <Show when=move || state.can_install.get()>
                    <button type="button" data-testid="install" on:click=move |_| state.install()>
                        "Install app"
                    </button>
                </Show>
            </div>
        </section>
    }
}
