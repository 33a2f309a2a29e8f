use leptos::prelude::*;

use crate::app::use_app;

/// Shown when a new version of the app is installed and waiting: reloading switches every file
/// at once, so two versions never mix.
#[component]
pub fn UpdateBanner() -> impl IntoView {
    let state = use_app();
    view! {
        <Show when=move || state.update_waiting.get()>
            <div class="update-banner" role="status" data-testid="update-available">
                <span>"Update available"</span>
                <button type="button" on:click=move |_| state.apply_update()>"Reload"</button>
            </div>
        </Show>
    }
}
