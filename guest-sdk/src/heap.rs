//! The guest's memory allocator: [talc](https://docs.rs/talc), handed linear memory 4 KiB at
//! a time from `__heap_base` on.
//!
//! Rust's default wasm32 allocator takes memory from `memory.grow` in 64 KiB steps starting
//! past the module's initial pages, and writes a boundary tag at the end of each step. The host
//! keeps every page a view's instance ever wrote resident for as long as the view is live, so
//! that tag alone cost each idle view a 4 KiB page, and the heap's first page another one beside
//! the page of the module's own statics. Here the heap starts right after the statics (in a page
//! they already dirtied) and grows only as far as it is used, so an idle thermostat's instance
//! writes three pages of linear memory: its stack, its statics with the start of its heap, and
//! the rest of its heap.
//!
//! On by default (feature `lean-heap`); an app with its own `#[global_allocator]` turns the
//! SDK's default features off.

use core::alloc::Layout;
use core::ptr::NonNull;

use talc::base::binning::Binning;
use talc::base::{CHUNK_UNIT, Talc};
use talc::source::Source;
use talc::wasm::WasmBinning;

/// How much linear memory the heap takes at once (a host page).
const STEP: usize = 4096;
/// A WebAssembly page (the unit of `memory.grow`).
const WASM_PAGE: usize = 64 * 1024;
/// Room for talc's table of free lists, kept at the start of the heap.
const METADATA: usize = 1024;

#[global_allocator]
static ALLOCATOR: talc::cell::TalcSyncCell<PagedHeap, WasmBinning> =
    talc::cell::TalcSyncCell::new_wasm(PagedHeap { end: None });

unsafe extern "C" {
    /// Where the linker put the end of the module's statics (and of its stack, placed first).
    static __heap_base: u8;
}

/// Hands talc linear memory a [`STEP`] at a time: from `__heap_base` on, growing the memory
/// when the heap reaches its end.
#[derive(Debug)]
pub struct PagedHeap {
    /// The heap's end, once it has one.
    end: Option<NonNull<u8>>,
}

unsafe impl Source for PagedHeap {
    fn acquire<B: Binning>(talc: &mut Talc<Self, B>, layout: Layout) -> Result<(), ()> {
        let first = talc.source.end.is_none();
        let start = match talc.source.end {
            Some(end) => end.as_ptr() as usize,
            None => core::ptr::addr_of!(__heap_base) as usize,
        };
        // The request, its alignment, and talc's tags around it (and its table, the first time).
        let wanted = layout
            .size()
            .checked_add(layout.align())
            .and_then(|n| n.checked_add(4 * CHUNK_UNIT))
            .and_then(|n| n.checked_add(if first { METADATA } else { 0 }))
            .ok_or(())?;
        let new_end = start
            .checked_add(wanted)
            .and_then(|n| n.checked_next_multiple_of(STEP))
            .ok_or(())?;
        let memory_end = core::arch::wasm32::memory_size::<0>() * WASM_PAGE;
        if new_end > memory_end {
            let pages = (new_end - memory_end).div_ceil(WASM_PAGE);
            if core::arch::wasm32::memory_grow::<0>(pages) == usize::MAX {
                return Err(());
            }
        }
        // SAFETY: `start..new_end` is linear memory past the module's statics that nothing but
        // this heap uses (nothing else in the guest grows or writes the memory past
        // `__heap_base`), and it is within the memory's size, grown above when it was not.
        let end = unsafe {
            match talc.source.end {
                Some(end) => talc.extend(end, new_end as *mut u8),
                None => talc.claim(start as *mut u8, new_end - start).ok_or(())?,
            }
        };
        talc.source.end = Some(end);
        Ok(())
    }
}
