//! How far one CPU pass grows WebAssembly's memory, simulated natively: Rust's std on wasm32
//! allocates with dlmalloc from memory grown 64 KiB pages at a time and never shrunk, so a pass
//! grows it to the highest address its blocks ever reach, holes included. This runs the same
//! allocator over such a region and prints that growth beside the peak of live bytes (the gap is
//! what the holes cost). `cargo run --release -p bgone-core --features native-fast --example
//! wasm_heap -- 1024 [passes]`, `RAYON_NUM_THREADS=2` for the browser's two pool threads. For
//! looking into the worker's memory, not a benchmark.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

mod common;

const PAGE: usize = 64 * 1024;
/// Address space set aside for the simulated memory (reserved, touched only as it is used).
const RESERVE: usize = 4 << 30;
static BASE: AtomicUsize = AtomicUsize::new(0);
/// The simulated memory's size: what `memory.grow` has handed out.
static GROWN: AtomicUsize = AtomicUsize::new(0);
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// `memory.grow` over the reserved region, as dlmalloc's wasm32 system allocator uses it.
struct LinearMemory;

unsafe impl dlmalloc::Allocator for LinearMemory {
    fn alloc(&self, size: usize) -> (*mut u8, usize, u32) {
        if BASE.load(Ordering::SeqCst) == 0 {
            // SAFETY: a valid, non-zero layout; the region is never freed.
            let base = unsafe { System.alloc(Layout::from_size_align(RESERVE, PAGE).expect("layout")) };
            BASE.store(base as usize, Ordering::SeqCst);
        }
        let size = size.div_ceil(PAGE) * PAGE;
        let offset = GROWN.fetch_add(size, Ordering::SeqCst);
        if offset + size > RESERVE {
            return (std::ptr::null_mut(), 0, 0);
        }
        ((BASE.load(Ordering::SeqCst) + offset) as *mut u8, size, 0)
    }
    fn remap(&self, _: *mut u8, _: usize, _: usize, _: bool) -> *mut u8 {
        std::ptr::null_mut()
    }
    fn free_part(&self, _: *mut u8, _: usize, _: usize) -> bool {
        false
    }
    fn free(&self, _: *mut u8, _: usize) -> bool {
        false
    }
    fn can_release_part(&self, _: u32) -> bool {
        false
    }
    fn allocates_zeros(&self) -> bool {
        false
    }
    fn page_size(&self) -> usize {
        PAGE
    }
}

struct Simulated(Mutex<dlmalloc::Dlmalloc<LinearMemory>>);

impl Simulated {
    fn count(&self, added: usize, removed: usize) {
        let live = LIVE.fetch_add(added, Ordering::SeqCst) + added - removed;
        LIVE.fetch_sub(removed, Ordering::SeqCst);
        PEAK.fetch_max(live, Ordering::SeqCst);
    }
}

unsafe impl GlobalAlloc for Simulated {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.count(layout.size(), 0);
        // SAFETY: forwarded as GlobalAlloc's contract asks.
        unsafe { self.0.lock().expect("allocator").malloc(layout.size(), layout.align()) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.count(0, layout.size());
        // SAFETY: `ptr` came from this allocator with `layout`.
        unsafe { self.0.lock().expect("allocator").free(ptr, layout.size(), layout.align()) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.count(new_size, layout.size());
        // SAFETY: `ptr` came from this allocator with `layout`.
        unsafe { self.0.lock().expect("allocator").realloc(ptr, layout.size(), layout.align(), new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Simulated = Simulated(Mutex::new(dlmalloc::Dlmalloc::new_with_allocator(LinearMemory)));

fn main() {
    let mut args = std::env::args().skip(1);
    let size: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1024);
    let passes: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(2);
    let remover = common::cpu_remover(size);
    let mib = |bytes: usize| bytes as f64 / (1 << 20) as f64;
    let (grown, live) = (GROWN.load(Ordering::SeqCst), LIVE.load(Ordering::SeqCst));
    println!("model loaded: memory {:.1} MiB, live {:.1} MiB", mib(grown), mib(live));
    for pass in 1..=passes {
        PEAK.store(LIVE.load(Ordering::SeqCst), Ordering::SeqCst);
        remover.read_mask(remover.predict(vec![0.1; 3 * size * size])).unwrap();
        println!(
            "pass {pass} at {size}: memory grown {:.1} MiB above the loaded model, live peak {:.1} MiB above it",
            mib(GROWN.load(Ordering::SeqCst) - grown),
            mib(PEAK.load(Ordering::SeqCst) - live)
        );
    }
}
