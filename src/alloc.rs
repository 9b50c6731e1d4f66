//! A global allocator wrapper that counts, per thread, the bytes allocated minus the bytes freed,
//! so a CEL evaluation can be stopped once it holds more memory than its budget (see
//! `policy::Budget`). Net, not cumulative: a loop that allocates and frees the same few bytes a
//! million times is work, which the step budget bounds; memory is what it keeps.
//!
//! The binary installs it around mimalloc (`src/main.rs`), and so do the library's unit tests.
//! Without it installed, [`net_allocated`] stays at 0 and memory budgets never trip.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;

thread_local! {
    // Const-initialised and without a destructor: reading it never allocates or registers
    // anything, which an allocator must not do.
    static NET: Cell<i64> = const { Cell::new(0) };
}

/// Bytes this thread has allocated minus the bytes it has freed, since it started. Memory freed
/// by another thread than the one that allocated it makes either figure drift; compare two
/// readings on one thread around work that keeps to that thread, as an evaluation does.
pub fn net_allocated() -> i64 {
    NET.try_with(Cell::get).unwrap_or(0)
}

fn count(bytes: i64) {
    // `try_with` fails only while the thread is being torn down; those bytes are not counted.
    let _ = NET.try_with(|c| c.set(c.get().wrapping_add(bytes)));
}

fn size(bytes: usize) -> i64 {
    i64::try_from(bytes).unwrap_or(i64::MAX)
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
        count(size(layout.size()));
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which we pass on.
        unsafe { self.inner.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(size(layout.size()));
        // SAFETY: as for `alloc`.
        unsafe { self.inner.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-size(layout.size()));
        // SAFETY: `ptr` came from this allocator (hence from `inner`) with `layout`.
        unsafe { self.inner.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(size(new_size) - size(layout.size()));
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract, which we pass on.
        unsafe { self.inner.realloc(ptr, layout, new_size) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_what_this_thread_holds() {
        // The library's unit tests run with `Counting` installed (see lib.rs).
        let before = net_allocated();
        let mut v: Vec<u8> = Vec::with_capacity(1 << 20);
        std::hint::black_box(&v);
        assert!(net_allocated() - before >= 1 << 20);
        v.reserve_exact(3 << 20);
        assert!(net_allocated() - before >= 3 << 20, "grown to 3 MiB (len 0 + 3 MiB)");
        drop(v);
        // freed: back to about where it was (test harness threads may allocate a little)
        assert!(net_allocated() - before < 1 << 20);
        // Another thread's allocations are not this thread's.
        let before = net_allocated();
        std::thread::spawn(|| std::hint::black_box(vec![0u8; 4 << 20]).len()).join().unwrap();
        assert!(net_allocated() - before < 1 << 20);
    }
}
