use leptos::prelude::*;

use crate::app::use_app;

/// What the app downloads, what never leaves the device, and the live proof: requests made while
/// the last image was processed.
#[component]
pub fn PrivacyPanel() -> impl IntoView {
    let state = use_app();
    let count = move || state.last_requests.get().map_or_else(|| "–".to_owned(), |count| count.total().to_string());
    let detail = move || {
        state.last_requests.get().map(|count| {
            let service_worker = count
                .service_worker
                .map_or_else(|| "no service worker yet".to_owned(), |n| format!("{n} let through by the service worker"));
            format!("page {}, worker {}, {service_worker}", count.page, count.worker)
        })
    };
    view! {
        <section class="panel privacy" aria-labelledby="privacy-title">
            <h2 id="privacy-title">"Privacy"</h2>
            <p>
                "This app downloads its own files and the background-removal model (about 88 MB, once), "
                "both from this site. Your images never leave this device: they are decoded, cut out and "
                "encoded here, in your browser."
            </p>
            <p class="requests">
                "Network requests while the last image was processed: "
                <output data-testid="requests-during-processing" aria-live="polite">{count}</output>
            </p>
            {move || detail().map(|detail| view! { <p class="note">{detail}</p> })}
        </section>
    }
}
