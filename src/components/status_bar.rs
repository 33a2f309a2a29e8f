use leptos::prelude::*;

use crate::app::use_app;
use crate::protocol::{EngineKind, EnginePreference};
use crate::state::PageStatus;

const MB: f64 = 1_000_000.0;
/// The network sizes the Quality setting offers: the model's own, and "Fast" (4x fewer pixels).
const FULL: usize = 1024;
const FAST: usize = 512;

/// What the page is doing, the model download, and which engine runs (with the setting to force
/// one).
#[component]
pub fn StatusBar() -> impl IntoView {
    let state = use_app();
    let text = move || match state.status.get() {
        PageStatus::LoadingModel => {
            let progress = state.progress.get();
            if progress.total == 0 {
                "Loading the model…".to_owned()
            } else {
                format!(
                    "Downloading the model: {:.1} of {:.1} MB ({:.0} %)",
                    progress.loaded as f64 / MB,
                    progress.total as f64 / MB,
                    100.0 * progress.loaded as f64 / progress.total as f64
                )
            }
        }
        PageStatus::Ready => match state.items.with(|items| items.len()) {
            0 => "Ready. Drop photos to begin.".to_owned(),
            _ => "Ready.".to_owned(),
        },
        PageStatus::Failed(message) => message,
    };
    let percent = move || {
        let progress = state.progress.get();
        if progress.total == 0 { 0.0 } else { 100.0 * progress.loaded as f64 / progress.total as f64 }
    };
    let downloading = move || matches!(state.status.get(), PageStatus::LoadingModel) && state.progress.get().total != 0;
    let on_engine = move |event| {
        let preference = match event_target_value(&event).as_str() {
            "webgpu" => EnginePreference::Webgpu,
            "cpu" => EnginePreference::Cpu,
            _ => EnginePreference::Auto,
        };
        state.preference.set(preference);
        state.start_worker();
    };
    let on_quality = move |event| {
        let size = event_target_value(&event).parse::<usize>().ok().filter(|&n| n != FULL);
        state.size.set(size);
        state.start_worker();
    };
    // `?size=N` (tests, experiments) shows as its own choice so the menu never lies.
    let custom = move || state.size.get().filter(|&n| n != FAST);
    view! {
        <section class="status-bar" aria-label="Status">
            <p data-testid="status" data-state=move || state.overall().id() role="status" aria-live="polite">
                {text}
            </p>
            <Show when=downloading>
                <progress max="100" value=percent aria-label="Model download"></progress>
            </Show>
            <div class="engine">
                <span>"Engine: "</span>
                <strong>{move || state.engine.get().map_or("starting…", |e| e.label())}</strong>
                <code class="engine-id" data-testid="engine">{move || state.engine.get().map_or("", |e| e.id())}</code>
                {move || (state.engine.get() == Some(EngineKind::Cpu)).then(|| {
                    let threads = state.threads.get();
                    let label = if threads == 1 { "1 thread".to_string() } else { format!("{threads} threads") };
                    view! { <span class="threads" data-testid="threads" data-threads=threads>{label}</span> }
                })}
                <label>
                    <span class="visually-hidden">"Engine setting"</span>
                    <select on:change=on_engine aria-label="Engine setting">
                        <option value="auto" selected=move || state.preference.get() == EnginePreference::Auto>"Automatic"</option>
                        <option value="webgpu" selected=move || state.preference.get() == EnginePreference::Webgpu>"GPU (WebGPU)"</option>
                        <option value="cpu" selected=move || state.preference.get() == EnginePreference::Cpu>"CPU (WebAssembly)"</option>
                    </select>
                </label>
                <label>
                    <span class="visually-hidden">"Quality setting"</span>
                    <select on:change=on_quality aria-label="Quality setting" data-testid="quality">
                        <option value="1024" selected=move || state.size.get().is_none()>"Full detail (1024)"</option>
                        <option value="512" selected=move || state.size.get() == Some(FAST)>"Fast (512, about 3x quicker)"</option>
                        {move || custom().map(|n| view! { <option value=n.to_string() selected=true>{format!("Network at {n}")}</option> })}
                    </select>
                </label>
            </div>
            {move || state.engine_note.get().map(|note| view! { <p class="note" data-testid="engine-note">{note}</p> })}
        </section>
    }
}
