//! How much the site stores and may store (`navigator.storage.estimate()`), and whether the
//! browser promised to keep it (`navigator.storage.persist()`): a non-persistent site's model
//! can be evicted when the disk fills up.

use js_sys::Reflect;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::StorageManager;

use super::{OfflineError, global_property};

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Estimate {
    /// Bytes this site uses.
    pub usage: f64,
    /// Bytes this site may use.
    pub quota: f64,
}

fn manager() -> Result<StorageManager, OfflineError> {
    let navigator = global_property("navigator")?;
    match Reflect::get(&navigator, &"storage".into()) {
        Ok(storage) if !storage.is_undefined() => Ok(storage.unchecked_into()),
        _ => Err(OfflineError::Unsupported("the Storage API")),
    }
}

pub async fn estimate() -> Result<Estimate, OfflineError> {
    let estimate = JsFuture::from(manager()?.estimate()?).await?;
    let number = |key: &str| Reflect::get(&estimate, &key.into()).ok().and_then(|v| v.as_f64()).unwrap_or(0.0);
    Ok(Estimate { usage: number("usage"), quota: number("quota") })
}

/// Asks the browser to keep this site's data under storage pressure; returns whether it agreed.
pub async fn persist() -> Result<bool, OfflineError> {
    Ok(JsFuture::from(manager()?.persist()?).await?.as_bool().unwrap_or(false))
}

pub async fn persisted() -> Result<bool, OfflineError> {
    Ok(JsFuture::from(manager()?.persisted()?).await?.as_bool().unwrap_or(false))
}
