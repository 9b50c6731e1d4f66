//! A global allocator wrapper that counts the bytes each thread allocates, so a CEL evaluation
//! can be stopped once it has allocated more than its memory budget (see `policy::Budget`).
//!
//! The binary installs it around mimalloc (`src/main.rs`), and so do the library's unit tests.
//! Without it installed, [`allocated_bytes`] stays at 0 and memory budgets never trip.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;

thread_local! {
    // Const-initialised and without a destructor: reading it never allocates or registers
    // anything, which an allocator must not do.
    static ALLOCATED: Cell<u64> = const { Cell::new(0) };
}

/// Bytes this thread has allocated since it started (cumulative: frees do not subtract).
pub fn allocated_bytes() -> u64 {
    ALLOCATED.try_with(Cell::get).unwrap_or(0)
}

fn count(bytes: usize) {
    // `try_with` fails only while the thread is being torn down; those bytes are not counted.
    let _ = ALLOCATED.try_with(|c| c.set(c.get().wrapping_add(bytes as u64)));
}

/// Wraps an allocator and counts, per thread, the bytes requested from it.
#[derive(Debug, Default)]
pub struct Counting<A> {
    inner: A,
}

impl<A> Counting<A> {
    /// Count the allocations made through `inner`.
    pub const fn new(inner: A) -> Counting<A> {
        Counting { inner }
    }
}

// SAFETY: every method forwards to the wrapped allocator with the same arguments and returns its
// result unchanged; counting only touches a thread-local `Cell` that never allocates.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Counting<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which we pass on.
        unsafe { self.inner.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: as for `alloc`.
        unsafe { self.inner.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator (hence from `inner`) with `layout`.
        unsafe { self.inner.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Growth only: a vector doubling to N bytes is counted as N in all, not N log N.
        count(new_size.saturating_sub(layout.size()));
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract, which we pass on.
        unsafe { self.inner.realloc(ptr, layout, new_size) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_this_threads_allocations() {
        // The library's unit tests run with `Counting` installed (see lib.rs).
        let before = allocated_bytes();
        let v: Vec<u8> = Vec::with_capacity(1 << 20);
        std::hint::black_box(&v);
        assert!(allocated_bytes() - before >= 1 << 20);
        // Another thread's allocations are not this thread's.
        let before = allocated_bytes();
        std::thread::spawn(|| std::hint::black_box(vec![0u8; 4 << 20])).join().unwrap();
        assert!(allocated_bytes() - before < 4 << 20);
    }
}
