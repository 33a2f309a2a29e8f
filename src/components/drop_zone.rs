use leptos::prelude::*;

use crate::app::{file_list, use_app};

/// Drop photos here, pick them (several at once), or paste one anywhere on the page.
#[component]
pub fn DropZone() -> impl IntoView {
    let state = use_app();
    let dragging = RwSignal::new(false);
    let input_ref = NodeRef::<leptos::html::Input>::new();
    let on_drop = move |event: leptos::ev::DragEvent| {
        event.prevent_default();
        dragging.set(false);
        if let Some(files) = event.data_transfer().and_then(|data| data.files()) {
            state.add_files(file_list(files));
        }
    };
    let on_pick = move |_| {
        if let Some(input) = input_ref.get() {
            if let Some(files) = input.files() {
                state.add_files(file_list(files));
            }
            input.set_value("");
        }
    };
    let open_picker = move || {
        if let Some(input) = input_ref.get() {
            input.click();
        }
    };
    view! {
        <div
            class="drop-zone"
            class:dragging=move || dragging.get()
            data-testid="drop-zone"
            role="button"
            tabindex="0"
            aria-label="Add photos: drop them here, press Enter to choose files, or paste with Ctrl+V"
            on:dragover=move |event: leptos::ev::DragEvent| { event.prevent_default(); dragging.set(true); }
            on:dragleave=move |_| dragging.set(false)
            on:drop=on_drop
            on:click=move |_| open_picker()
            on:keydown=move |event: leptos::ev::KeyboardEvent| {
                if event.key() == "Enter" || event.key() == " " { event.prevent_default(); open_picker(); }
            }
        >
            <p class="drop-title">"Drop photos here"</p>
            <p class="drop-hint">"or click to choose files · or paste with Ctrl+V"</p>
            <p class="drop-hint">"JPEG, PNG, WebP, GIF, BMP, TIFF · processed on this device"</p>
            <input
                node_ref=input_ref
                data-testid="file-input"
                type="file"
                accept="image/*"
                multiple
                class="visually-hidden"
                tabindex="-1"
                aria-hidden="true"
                on:click=|event| event.stop_propagation()
                on:change=on_pick
            />
        </div>
    }
}
