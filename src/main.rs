#[cfg(target_arch = "wasm32")]
fn main() {
    leptos::mount::mount_to_body(bgone_web::app::App);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("bgone-web runs in the browser; build and serve it with `bash scripts/serve.sh`.");
}
