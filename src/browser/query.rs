//! The page's query parameters: `?engine=cpu|webgpu` forces the engine, `?size=N` runs the
//! network at N x N (a multiple of 64), `?simd=portable` runs the threaded CPU worker's build
//! without relaxed SIMD even where the browser has it (for tests and benchmarks).

use crate::protocol::EnginePreference;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Query {
    pub engine: Option<EnginePreference>,
    pub size: Option<usize>,
    pub portable_simd: bool,
}

pub fn parse(search: &str) -> Query {
    let params = web_sys::UrlSearchParams::new_with_str(search).ok();
    let get = |key: &str| params.as_ref().and_then(|p| p.get(key));
    let engine = get("engine").and_then(|value| match value.as_str() {
        "cpu" => Some(EnginePreference::Cpu),
        "webgpu" | "gpu" => Some(EnginePreference::Webgpu),
        "auto" => Some(EnginePreference::Auto),
        _ => None,
    });
    let size = get("size").and_then(|value| value.parse::<usize>().ok()).filter(|n| *n >= 64 && n % 64 == 0);
    let portable_simd = get("simd").is_some_and(|value| value == "portable");
    Query { engine, size, portable_simd }
}

pub fn current() -> Query {
    let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    parse(&search)
}
