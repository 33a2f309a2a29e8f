//! The browser glue, in headless Chromium (wasm-bindgen-test; run by tests/run.sh):
//! query parsing, blobs, the ZIP, canvas flattening, the model's offline cache, the readiness
//! registry, storage estimates, the request log, storage errors, when a dead worker is restarted,
//! and the CPU engine's convolutions and max pool as WebAssembly runs them.
#![cfg(target_arch = "wasm32")]

use bgone_core::model::{ModelManifest, Normalization};
use bgone_web::browser::{blobs, canvas, gpu_adapter, query, zip_all};
use bgone_web::offline::{OfflineError, gpu_passes, model_cache, registry, request_log, storage};
use bgone_web::protocol::{EnginePreference, ModelRecord};
use image::{ImageFormat, Rgba, RgbaImage};
use sha2::{Digest, Sha256};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn manifest_for(id: &str, weights: &[u8]) -> ModelManifest {
    let sha256 = Sha256::digest(weights).iter().map(|b| format!("{b:02x}")).collect();
    ModelManifest {
        id: id.into(),
        name: "test model".into(),
        file: format!("{id}.safetensors"),
        bytes: weights.len() as u64,
        sha256,
        input_size: 1024,
        normalization: Normalization { mean: [128.0; 3], std: [256.0; 3] },
        xxh3: String::new(),
    }
}

/// The browser's check of the weights against the manifest's XXH3-128 (and by sha256 where a
/// manifest lists none), on good and on damaged bytes, whole and fed in pieces as they arrive.
#[wasm_bindgen_test]
fn weights_are_checked_whole_and_as_they_arrive() {
    use bgone_web::browser::digest::{StreamingCheck, verify};
    let weights: Vec<u8> = (0..10_000u32).map(|i| (i * 31 % 251) as u8).collect();
    let by_sha256 = manifest_for("digest", &weights);
    let by_xxh3 = ModelManifest { xxh3: format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&weights)), ..by_sha256.clone() };
    let mut damaged = weights.clone();
    damaged[9_000] ^= 0x40;
    for manifest in [&by_sha256, &by_xxh3] {
        let verified = verify(manifest, weights.clone()).expect("intact weights pass");
        assert_eq!(verified.as_bytes(), weights.as_slice());
        assert!(verify(manifest, damaged.clone()).is_err(), "damaged weights pass");
    }
    // As a read or a download feeds them: in pieces of odd sizes. A damaged file, a truncated
    // one, an intact one, and one fed only in part before it is finished.
    let fed = |bytes: &[u8]| {
        let mut check = StreamingCheck::new(&by_xxh3);
        let mut read = 0;
        while read < bytes.len() {
            read = (read + 1_500).min(bytes.len());
            check.feed(&bytes[..read]);
        }
        check
    };
    assert!(fed(&weights).finish(weights.clone()).is_ok(), "intact weights fail when fed in pieces");
    assert!(fed(&damaged).finish(damaged.clone()).is_err(), "damaged weights pass when fed in pieces");
    let truncated = weights[..8_192].to_vec();
    assert!(fed(&truncated).finish(truncated.clone()).is_err(), "a truncated file passes");
    let mut partly = StreamingCheck::new(&by_xxh3);
    partly.feed(&weights[..4_000]);
    assert!(partly.finish(weights.clone()).is_ok(), "intact weights fail when fed only in part");
}

/// A response body read into the memory whole, in more than one piece: a byte stream (a
/// `Response`'s, read with one buffer of our own) and any other stream (a new buffer per chunk).
#[wasm_bindgen_test]
async fn bodies_are_read_whole_from_byte_streams_and_others() {
    use bgone_web::browser::body_stream::read_all;
    let bytes: Vec<u8> = (0..10_000_000u32).map(|i| (i * 7 % 253) as u8).collect();
    let response = |bytes: &[u8]| web_sys::Response::new_with_opt_u8_array(Some(&mut bytes.to_vec())).unwrap();
    // Chromium's bodies are byte streams: the reader this module tries first can take them.
    assert!(web_sys::ReadableStreamByobReader::new(&response(&bytes).body().unwrap()).is_ok());

    let mut pieces = 0;
    let read = read_all(response(&bytes).body().unwrap(), bytes.len(), |_| pieces += 1).await.unwrap();
    assert!(read == bytes, "a byte stream was not read whole ({} of {} bytes)", read.len(), bytes.len());
    assert!(pieces >= 3, "10 MB read in {pieces} pieces of at most 4 MiB");

    let chunks = js_sys::Function::new_with_args(
        "bytes",
        "return new ReadableStream({ start(c) { for (let i = 0; i < bytes.length; i += 300000) \
         c.enqueue(bytes.slice(i, i + 300000)); c.close(); } })",
    );
    let stream: web_sys::ReadableStream =
        chunks.call1(&wasm_bindgen::JsValue::NULL, &js_sys::Uint8Array::from(&bytes[..])).unwrap().unchecked_into();
    assert!(web_sys::ReadableStreamByobReader::new(&stream).is_err(), "not a byte stream");
    let mut pieces = 0;
    let read = read_all(stream, bytes.len(), |_| pieces += 1).await.unwrap();
    assert!(read == bytes, "a stream of chunks was not read whole ({} of {} bytes)", read.len(), bytes.len());
    assert_eq!(pieces, 34);
}

/// An adapter as `navigator.gpu.requestAdapter()` gives it, with `isFallbackAdapter` in its info
/// (or, `legacy`, on the adapter itself, where older browsers put it).
fn adapter(fallback: bool, legacy: bool) -> wasm_bindgen::JsValue {
    let (adapter, info) = (js_sys::Object::new(), js_sys::Object::new());
    let flagged = if legacy { &adapter } else { &info };
    js_sys::Reflect::set(flagged, &"isFallbackAdapter".into(), &fallback.into()).unwrap();
    js_sys::Reflect::set(&info, &"vendor".into(), &"google".into()).unwrap();
    js_sys::Reflect::set(&adapter, &"info".into(), &info).unwrap();
    adapter.into()
}

#[wasm_bindgen_test]
fn automatic_mode_takes_a_gpu_but_not_a_software_adapter() {
    use gpu_adapter::Offer;
    assert_eq!(gpu_adapter::offer_of(None), Offer::None);
    assert_eq!(gpu_adapter::offer_of(Some(&adapter(false, false))), Offer::Hardware);
    assert_eq!(gpu_adapter::offer_of(Some(&adapter(true, false))), Offer::Fallback);
    assert_eq!(gpu_adapter::offer_of(Some(&adapter(true, true))), Offer::Fallback);
    assert_eq!(gpu_adapter::cpu_reason(Offer::Hardware), None);
    assert!(gpu_adapter::cpu_reason(Offer::Fallback).is_some_and(|reason| reason.contains("software")));
    assert!(gpu_adapter::cpu_reason(Offer::None).is_some_and(|reason| reason.contains("no WebGPU adapter")));
}

#[wasm_bindgen_test]
fn query_forces_engine_size_and_simd() {
    let parsed = query::parse("?engine=cpu&size=256");
    assert_eq!(parsed.engine, Some(EnginePreference::Cpu));
    assert_eq!(parsed.size, Some(256));
    assert!(!parsed.portable_simd);
    assert!(query::parse("?engine=cpu&simd=portable").portable_simd);
    assert_eq!(query::parse("?engine=webgpu").engine, Some(EnginePreference::Webgpu));
    // Sizes that are not multiples of 64, and unknown engines, are ignored rather than fatal.
    assert_eq!(query::parse("?size=100&engine=tpu&simd=avx"), query::Query::default());
    assert_eq!(query::parse("").size, None);
}

#[wasm_bindgen_test]
async fn blobs_round_trip_their_bytes() {
    let bytes: Vec<u8> = (0..=255).collect();
    let blob = blobs::blob(&bytes, "application/octet-stream").unwrap();
    assert_eq!(blob.size() as usize, bytes.len());
    assert_eq!(blobs::blob_bytes(&blob).await.unwrap(), bytes);
    let url = blobs::object_url(&blob).unwrap();
    let fetched = blobs::fetch_blob(&url).await.unwrap();
    assert_eq!(blobs::blob_bytes(&fetched).await.unwrap(), bytes);
    blobs::revoke(&url);
    assert_eq!(blobs::result_name("photo.final.jpg", "-cutout", "png"), "photo.final-cutout.png");
    assert_eq!(blobs::result_name("noext", "-mask", "png"), "noext-mask.png");
}

#[wasm_bindgen_test]
fn zip_holds_every_file_unchanged() {
    let files = vec![("a-cutout.png".to_owned(), vec![1u8, 2, 3]), ("b-cutout.png".to_owned(), vec![9u8; 1000])];
    let archive = zip_all::zip(&files).unwrap();
    let mut reader = zip::ZipArchive::new(std::io::Cursor::new(archive)).unwrap();
    assert_eq!(reader.len(), 2);
    for (name, bytes) in &files {
        let mut entry = reader.by_name(name).unwrap();
        let mut read = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut read).unwrap();
        assert_eq!(&read, bytes);
    }
}

#[wasm_bindgen_test]
async fn canvas_flattens_a_cutout_onto_a_colour() {
    // Left pixel opaque green, right pixel fully transparent.
    let mut cutout = RgbaImage::new(2, 1);
    cutout.put_pixel(0, 0, Rgba([0, 255, 0, 255]));
    cutout.put_pixel(1, 0, Rgba([0, 0, 0, 0]));
    let mut png = std::io::Cursor::new(Vec::new());
    cutout.write_to(&mut png, ImageFormat::Png).unwrap();
    let png = blobs::blob(png.get_ref(), "image/png").unwrap();

    let jpeg = canvas::flatten(&png, Some("#ff0000"), "image/jpeg", 1.0).await.unwrap();
    assert_eq!(jpeg.type_(), "image/jpeg");
    let decoded = image::load_from_memory(&blobs::blob_bytes(&jpeg).await.unwrap()).unwrap().to_rgb8();
    let [r, g, _] = decoded.get_pixel(1, 0).0;
    assert!(r > 200 && g < 80, "the transparent pixel should be red, got {:?}", decoded.get_pixel(1, 0));
    let [r, g, _] = decoded.get_pixel(0, 0).0;
    assert!(g > 150 && r < 120, "the subject should stay green, got {:?}", decoded.get_pixel(0, 0));
}

#[wasm_bindgen_test]
async fn model_cache_keeps_one_version_per_cache() {
    let weights = b"not really weights, but bytes with a sha256".to_vec();
    let manifest = manifest_for("glue-test", &weights);
    model_cache::delete(&manifest).await.unwrap();
    assert_eq!(model_cache::read(&manifest, |_| {}).await.unwrap(), None);

    model_cache::put(&manifest, model_cache::response_of(&weights).unwrap()).await.unwrap();
    assert_eq!(model_cache::read(&manifest, |_| {}).await.unwrap(), Some(weights.clone()));
    assert!(model_cache::cache_name(&manifest).starts_with("bgone-model-glue-test-"));

    // A newer version of the same model replaces the older one's cache, not another model's.
    let newer = manifest_for("glue-test", b"newer weights");
    let other = manifest_for("other-model", b"other");
    model_cache::put(&newer, model_cache::response_of(b"newer weights").unwrap()).await.unwrap();
    model_cache::put(&other, model_cache::response_of(b"other").unwrap()).await.unwrap();
    let deleted = model_cache::delete_other_versions(&newer).await.unwrap();
    assert_eq!(deleted, vec![model_cache::cache_name(&manifest)]);
    assert_eq!(model_cache::read(&manifest, |_| {}).await.unwrap(), None);
    assert_eq!(model_cache::read(&other, |_| {}).await.unwrap(), Some(b"other".to_vec()));

    assert!(model_cache::delete(&newer).await.unwrap());
    assert!(model_cache::delete(&other).await.unwrap());
    assert!(!model_cache::delete(&newer).await.unwrap());
}

/// The response kept for offline use is made from a view on the WebAssembly memory
/// (`response_of`): it must hold its own copy of the bytes, taken before the constructor returns,
/// since the engine goes on using (and the allocator reusing) that memory while the cache writes.
#[wasm_bindgen_test]
async fn stored_response_holds_its_own_copy_of_the_weights() {
    let original: Vec<u8> = (0..3 << 20).map(|i: u32| (i * 7 % 251) as u8).collect();
    let mut weights = original.clone();
    let response = model_cache::response_of(&weights).unwrap();
    weights.fill(0);
    let buffer = JsFuture::from(response.array_buffer().unwrap()).await.unwrap();
    let stored = js_sys::Uint8Array::new(&buffer).to_vec();
    assert_eq!(stored.len(), original.len());
    assert!(stored == original, "the response changed with the memory it was made from");
}

#[wasm_bindgen_test]
async fn registry_records_what_is_kept_offline() {
    let record = ModelRecord {
        id: "glue-registry".into(),
        version: "0123456789ab".into(),
        file: "glue.safetensors".into(),
        bytes: 42,
        sha256: "0123456789abcdef".into(),
        cached_at: 1_700_000_000_000.0,
        verified_at: 1_700_000_001_000.0,
    };
    registry::delete(&record.id).await.unwrap();
    assert_eq!(registry::get(&record.id).await.unwrap(), None);
    registry::put(&record).await.unwrap();
    assert_eq!(registry::get(&record.id).await.unwrap(), Some(record.clone()));
    let verified = ModelRecord { verified_at: 1_800_000_000_000.0, ..record.clone() };
    registry::put(&verified).await.unwrap();
    assert_eq!(registry::get(&record.id).await.unwrap(), Some(verified));
    registry::delete(&record.id).await.unwrap();
    assert_eq!(registry::get(&record.id).await.unwrap(), None);
}

#[wasm_bindgen_test]
async fn gpu_passes_remember_a_gpu_until_it_fails() {
    let adapter = ["glue vendor", "glue architecture", "", "Glue GPU"].map(String::from);
    let key = gpu_passes::key(&adapter, "Glue Browser 1.0", "bgone glue");
    let other = gpu_passes::key(&adapter, "Glue Browser 2.0", "bgone glue");
    assert_ne!(key, other, "a new browser version must test its GPU again");
    gpu_passes::forget(&key).await.unwrap();
    assert!(!gpu_passes::has_passed(&key).await);
    gpu_passes::record(&key).await.unwrap();
    assert!(gpu_passes::has_passed(&key).await);
    assert!(!gpu_passes::has_passed(&other).await);
    // The models' registry shares the database: both stores work side by side.
    assert_eq!(registry::get("glue-gpu-passes").await.unwrap(), None);
    gpu_passes::forget(&key).await.unwrap();
    assert!(!gpu_passes::has_passed(&key).await);
}

#[wasm_bindgen_test]
async fn storage_estimate_reports_a_quota() {
    let estimate = storage::estimate().await.unwrap();
    assert!(estimate.quota > 0.0, "{estimate:?}");
    assert!(estimate.usage >= 0.0);
    // The answer depends on the browser's policy; asking must not fail.
    storage::persisted().await.unwrap();
}

#[wasm_bindgen_test]
async fn request_log_counts_network_requests_but_not_local_reads() {
    let log = request_log::RequestLog::start();
    let window = web_sys::window().unwrap();
    let before = request_log::now_ms();
    // A local read: a blob URL made here never leaves the page.
    let blob = blobs::blob(b"local", "text/plain").unwrap();
    let url = blobs::object_url(&blob).unwrap();
    blobs::fetch_blob(&url).await.unwrap();
    let local_done = request_log::now_ms();
    assert_eq!(log.count_between(before, local_done), 0);

    // A real request to the test server.
    let href = window.location().href().unwrap();
    let response: web_sys::Response =
        JsFuture::from(window.fetch_with_str(&format!("{href}?glue={before}"))).await.unwrap().unchecked_into();
    JsFuture::from(response.text().unwrap()).await.unwrap();
    assert_eq!(log.count_between(local_done, request_log::now_ms()), 1);
}

#[wasm_bindgen_test]
fn quota_errors_are_recognised() {
    let quota = web_sys::DomException::new_with_message_and_name("full", "QuotaExceededError").unwrap();
    assert_eq!(OfflineError::from(wasm_bindgen::JsValue::from(quota)), OfflineError::QuotaExceeded);
    let other = web_sys::DomException::new_with_message_and_name("nope", "InvalidStateError").unwrap();
    assert_eq!(OfflineError::from(wasm_bindgen::JsValue::from(other)), OfflineError::Storage("nope".into()));
    assert!(OfflineError::QuotaExceeded.to_string().contains("still works while online"));
}

/// The CPU engine's convolutions as WebAssembly runs them (the simd128 register tiles, rows and
/// columns that do not fill a tile, dilations; one product per tap, and Winograd's algorithm at
/// dilation 1 and on a dilated layer's subgrids), against the definition.
#[wasm_bindgen_test]
fn same_conv_matches_the_definition_in_webassembly() {
    use bgone_core::model::{SameConv, conv_reference};
    for (in_channels, out_channels, height, width, dilation) in
        [(16, 8, 37, 45, 1), (8, 70, 20, 33, 2), (130, 6, 9, 16, 8), (3, 1, 1, 1, 1), (70, 12, 17, 9, 1)]
    {
        let conv = SameConv { in_channels, out_channels, height, width, kernel: 3, dilation };
        let kernel = conv_reference::available().into_iter().next();
        assert!(kernel.is_some(), "the WebAssembly build has no register-tile kernel");
        let worst =
            conv_reference::worst_difference(conv, true, kernel).max(conv_reference::worst_direct_difference(conv, true, kernel));
        assert!(worst < 1e-4, "{conv:?}: max abs difference {worst}");
    }
}

/// The CPU engine's max pool as WebAssembly runs it (four windows at a time, their columns split
/// apart by SIMD shuffles; odd widths and heights), against the window-by-window maximum.
#[wasm_bindgen_test]
fn max_pool_matches_the_window_by_window_maximum_in_webassembly() {
    use bgone_core::model::max_pool_2x2_ceil;
    for width in [1usize, 8, 9, 17, 64] {
        let height = 5usize;
        let input: Vec<f32> = (0..height * width).map(|i| ((i * 29 % 17) as f32 - 8.0) * 0.5).collect();
        let out_w = width.div_ceil(2);
        let pooled = max_pool_2x2_ceil(&input, 1, height, width);
        assert_eq!(pooled.len(), height.div_ceil(2) * out_w);
        let pixel = |y: usize, x: usize| input[y.min(height - 1) * width + x.min(width - 1)];
        for (at, &value) in pooled.iter().enumerate() {
            let (y, x) = (at / out_w, at % out_w);
            let window = [pixel(2 * y, 2 * x), pixel(2 * y, 2 * x + 1), pixel(2 * y + 1, 2 * x), pixel(2 * y + 1, 2 * x + 1)];
            assert_eq!(value, window.into_iter().fold(f32::MIN, f32::max), "width {width}, window ({y}, {x})");
        }
    }
}

/// A crash mid-image fails that image; a worker that keeps dying before it is ready, or as it
/// takes an image, is restarted once, then the page stops (or gives up that image).
#[wasm_bindgen_test]
fn crash_record_restarts_once_then_stops_or_gives_up() {
    use bgone_web::restarts::{AfterCrash, CrashRecord};
    let mut record = CrashRecord::default();
    // Mid-image crashes always restart: each one takes its own image with it.
    for _ in 0..3 {
        assert_eq!(record.after_crash(true, true), AfterCrash::FailCurrent);
    }
    // Dying as it takes an image: once a new worker tries it, twice the image is given up.
    assert_eq!(record.after_crash(true, false), AfterCrash::Restart);
    assert_eq!(record.after_crash(true, false), AfterCrash::GiveUpOldest);
    assert_eq!(record.after_crash(true, false), AfterCrash::Restart);
    // ... unless an image finished in between.
    record.image_finished();
    assert_eq!(record.after_crash(true, false), AfterCrash::Restart);
    // Dying before it is ready: restarted once, then no more; a ready worker resets that count.
    assert_eq!(record.after_crash(false, false), AfterCrash::Restart);
    record.ready();
    assert_eq!(record.after_crash(false, false), AfterCrash::Restart);
    assert_eq!(record.after_crash(false, false), AfterCrash::Stop);
}
