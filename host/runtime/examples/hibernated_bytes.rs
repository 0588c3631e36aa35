//! What a hibernated view keeps on the host's heap: for a built component (default
//! `thermostat`), mounts and renders `count` views, hibernates each, keeps them all, and prints
//! the heap bytes per hibernated view (a counting allocator's live bytes before and after),
//! with the snapshot's share.
//!
//! `cargo run --release -p livewasm-runtime --example hibernated_bytes -- [name] [count]`
//! (components from `$LIVEWASM_COMPONENTS`, else `target/components`).

#![allow(clippy::expect_used)]

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use livewasm_runtime::RuntimeConfig;

/// The system allocator, counting the bytes live.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; only a counter moves.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "thermostat".into());
    let count: usize = args.next().and_then(|c| c.parse().ok()).unwrap_or(1000);
    let (_runtime, app, request) = support::load(
        &name,
        RuntimeConfig {
            max_instances: 64,
            ..RuntimeConfig::default()
        },
    );
    let one = || {
        let mut instance = app.instantiate().expect("instantiate");
        instance.mount(&request).expect("mount");
        instance
            .handle_params(&request.params, &request.url, request.action.as_deref())
            .expect("handle_params");
        std::hint::black_box(instance.render().expect("render"));
        instance.hibernate().map_err(|_| ()).expect("hibernates")
    };
    // Warm up whatever is made once (caches, the pool's first slots).
    drop((0..64).map(|_| one()).collect::<Vec<_>>());
    let mut kept = Vec::with_capacity(count);
    let before = LIVE.load(Ordering::Relaxed);
    for _ in 0..count {
        kept.push(one());
    }
    let after = LIVE.load(Ordering::Relaxed);
    let snapshot: usize = kept.iter().map(|h| h.snapshot_bytes()).sum();
    let per_view = (after - before) as f64 / count as f64;
    println!(
        "{name}: {count} hibernated views, {per_view:.0} heap bytes each \
         (snapshot {:.0} bytes of it)",
        snapshot as f64 / count as f64
    );
}
