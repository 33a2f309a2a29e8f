//! The privacy count: how many requests left the device while the last image was processed.
//! It adds the page's own resource timing entries, the worker's (reported with each result) and
//! the requests the service worker let through to the network, between the image's start and end.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::AppState;
use crate::offline::request_log::now_ms;
use crate::offline::service_worker;
use crate::state::RequestCount;

impl AppState {
    async fn service_worker_count(self) -> Option<u32> {
        let registration = self.registration.get_value()?;
        service_worker::network_requests(&registration).await.ok()
    }

    /// An image started in the worker: open its window.
    pub(super) fn processing_started(self, id: u32) {
        self.last_requests.set(None);
        let started = now_ms();
        self.windows.update_value(|windows| {
            windows.insert(id, (started, None));
        });
        spawn_local(async move {
            let count = self.service_worker_count().await;
            self.windows.update_value(|windows| {
                if let Some(window) = windows.get_mut(&id) {
                    window.1 = count;
                }
            });
        });
    }

    /// The image finished (or failed): close its window and publish the count.
    pub(super) fn processing_finished(self, id: u32, worker: u32) {
        let finished = now_ms();
        let Some((started, service_worker_before)) = self.windows.try_update_value(|w| w.remove(&id)).flatten() else {
            return;
        };
        let page = self.page_requests.with_value(|log| log.as_ref().map_or(0, |log| log.count_between(started, finished)));
        spawn_local(async move {
            let after = self.service_worker_count().await;
            let service_worker = service_worker_before.zip(after).map(|(before, after)| after.saturating_sub(before));
            self.last_requests.set(Some(RequestCount { page, worker, service_worker }));
        });
    }
}
