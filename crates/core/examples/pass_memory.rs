//! Where a pass's memory goes: the peak of live heap bytes during one CPU pass, and the large
//! blocks alive at that peak. `cargo run --release -p bgone-core --features native-fast --example
//! pass_memory -- 1024`. For looking into the working set, not a benchmark.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

mod common;

struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static TRACK: AtomicBool = AtomicBool::new(false);
const BIG: usize = 1 << 20;
/// (address, size, sequence) of the live blocks of BIG or more; and a copy at the peak.
static BLOCKS: Mutex<Vec<(usize, usize, usize)>> = Mutex::new(Vec::new());
static AT_PEAK: Mutex<Vec<(usize, usize, usize)>> = Mutex::new(Vec::new());
static SEQ: AtomicUsize = AtomicUsize::new(0);
/// Each large block's making (+size) or freeing (-size), with the live bytes after it.
static TIMELINE: Mutex<Vec<(isize, usize)>> = Mutex::new(Vec::new());

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        self.note(p, layout.size(), true);
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        self.note(p, layout.size(), false);
        unsafe { System.dealloc(p, layout) }
    }
    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        self.note(p, layout.size(), false);
        let q = unsafe { System.realloc(p, layout, new) };
        self.note(q, new, true);
        q
    }
}

impl Counting {
    fn note(&self, p: *mut u8, size: usize, alloc: bool) {
        // Every block counts towards the live bytes; the peak and the large blocks are followed
        // only while a pass runs.
        let live =
            if alloc { LIVE.fetch_add(size, Ordering::SeqCst) + size } else { LIVE.fetch_sub(size, Ordering::SeqCst) - size };
        if !TRACK.load(Ordering::Relaxed) {
            return;
        }
        if !alloc {
            if size >= BIG {
                BLOCKS.lock().unwrap().retain(|b| b.0 != p as usize);
                TIMELINE.lock().unwrap().push((-(size as isize), live));
            }
            return;
        }
        let peak = live > PEAK.load(Ordering::SeqCst);
        if peak {
            PEAK.store(live, Ordering::SeqCst);
        }
        if size >= BIG {
            let seq = SEQ.fetch_add(1, Ordering::SeqCst);
            let mut blocks = BLOCKS.lock().unwrap();
            blocks.push((p as usize, size, seq));
            TIMELINE.lock().unwrap().push((size as isize, live));
            if peak {
                *AT_PEAK.lock().unwrap() = blocks.clone();
            }
        }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn main() {
    let size: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1024);
    let remover = common::cpu_remover(size);
    let input = vec![0.1; 3 * size * size];
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    TRACK.store(true, Ordering::SeqCst);
    remover.read_mask(remover.predict(input)).unwrap();
    TRACK.store(false, Ordering::SeqCst);
    let mib = |b: usize| b as f64 / (1 << 20) as f64;
    println!("pass at {size}: peak {:.1} MiB above the loaded model and the input", mib(PEAK.load(Ordering::SeqCst) - base));
    if std::env::var_os("TIMELINE").is_some() {
        for (change, live) in TIMELINE.lock().unwrap().iter() {
            if change.unsigned_abs() >= 8 << 20 {
                println!("  {:+8.1} MiB -> {:6.1} MiB", *change as f64 / (1 << 20) as f64, mib(live - base));
            }
        }
    }
    let mut at_peak = AT_PEAK.lock().unwrap().clone();
    at_peak.sort_by_key(|b| b.2);
    let big: usize = at_peak.iter().map(|b| b.1).sum();
    println!("blocks of 1 MiB or more alive at the peak ({:.1} MiB), in the order they were made:", mib(big));
    for (_, size, seq) in at_peak {
        println!("  #{seq:4}  {:8.2} MiB  ({size} bytes)", mib(size));
    }
}
