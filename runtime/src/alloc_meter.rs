//! The server's allocator: mimalloc, counting the bytes each thread holds, so that a
//! JSONata evaluation can be stopped once it holds too much memory
//! (`sandstep_engine::jsonata::set_memory_probe`). A hostile `{% %}` expression can
//! otherwise build gigabytes in a few steps: a million distinct copies of a long string.
//!
//! The count is a thread-local addition per allocation and release (a nanosecond next to
//! mimalloc's own fast path). Memory released by another thread than the one that
//! allocated it moves both counts; only the growth on one thread during one evaluation is
//! ever read.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;

thread_local! {
    /// Bytes allocated by this thread and not released (by it).
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

/// mimalloc with per-thread counts; install with `#[global_allocator]`.
#[derive(Debug)]
pub struct Metered;

fn count(delta: isize) {
    // `try_with`: allocations during thread teardown find the slot gone.
    let _ = LIVE.try_with(|live| live.set(live.get().wrapping_add(delta)));
}

fn size(bytes: usize) -> isize {
    isize::try_from(bytes).unwrap_or(isize::MAX)
}

// SAFETY: every method forwards to mimalloc with the caller's arguments unchanged and
// returns its answer; the counting touches only a thread-local integer with no
// destructor, which allocates nothing.
unsafe impl GlobalAlloc for Metered {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, passed on as is.
        let ptr = unsafe { mimalloc::MiMalloc.alloc(layout) };
        if !ptr.is_null() {
            count(size(layout.size()));
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as `alloc`.
        let ptr = unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) };
        if !ptr.is_null() {
            count(size(layout.size()));
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` and `layout` come from this allocator, as the contract demands.
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) };
        count(-size(layout.size()));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as `dealloc`, with the caller's `new_size`.
        let new = unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            count(size(new_size) - size(layout.size()));
        }
        new
    }
}

/// Bytes the current thread holds, as counted by [`Metered`].
pub fn live_bytes() -> isize {
    LIVE.try_with(Cell::get).unwrap_or(0)
}
