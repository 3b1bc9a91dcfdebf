//! Rust-owned buffers behind integer handles: 64-byte aligned allocations, a slab of slots
//! (a handle is a slot index; freed slots are reused) and a pool of freed allocations keyed
//! by their rounded capacity. Live counts and bytes are exact (`bytes` as requested).
//!
//! Each slot carries a *fence*: the sequence number of the last job queued on the background
//! worker that touches the buffer (see `queue.rs`). Freeing a buffer whose fence has not
//! completed only retires its handle; the memory is returned (pooled or freed) by `sweep`
//! once the worker is past the fence, so a queued kernel never sees its memory reused.

use std::alloc::{alloc, dealloc, Layout};
use std::collections::HashMap;

pub const ALIGN: usize = 64;
/// What errors about dead handles say (the JS glue gives them the handle error code).
pub const DEAD_HANDLE: &str = "is not live";
/// Pool limits: total bytes kept, largest allocation kept, allocations kept per size.
const POOL_MAX_BYTES: usize = 256 << 20;
const POOL_MAX_ALLOC: usize = 64 << 20;
/// Generous, because a queue of long kernels keeps its outputs alive at once: a benchmark
/// or training loop that enqueues 14 matmuls (each allocating its output, freed right away
/// but fenced until it has run) needs 14 buffers of one size in flight; kept to 8 the rest
/// were returned to the system and faulted in again (zeroed pages) on every round, ~10% of
/// a 1024³ matmul's time. `POOL_MAX_BYTES` still bounds the total.
const POOL_MAX_PER_SIZE: usize = 32;

struct Slot {
    ptr: *mut u8,
    bytes: usize,
    cap: usize,
    live: bool,
    /// Last queued job touching the buffer (0: none).
    fence: u64,
}

/// One backend instance's buffers.
pub struct Storage {
    slots: Vec<Slot>,
    free_slots: Vec<u32>,
    pool: HashMap<usize, Vec<*mut u8>>,
    /// Freed handles whose memory waits for a queued job: (slot, fence).
    deferred: Vec<(u32, u64)>,
    pub live: usize,
    pub live_bytes: usize,
    pub pooled_bytes: usize,
    /// Bytes (capacity) of buffers in `deferred`.
    pub deferred_bytes: usize,
}

fn capacity(bytes: usize) -> usize {
    bytes.div_ceil(ALIGN).max(1) * ALIGN
}

impl Default for Storage {
    fn default() -> Self {
        Self::new()
    }
}

impl Storage {
    pub fn new() -> Self {
        Storage { slots: Vec::new(), free_slots: Vec::new(), pool: HashMap::new(), deferred: Vec::new(), live: 0, live_bytes: 0, pooled_bytes: 0, deferred_bytes: 0 }
    }

    /// A new buffer of `bytes` bytes (contents unspecified); returns its handle.
    pub fn alloc(&mut self, bytes: usize) -> Result<u32, String> {
        if bytes > (isize::MAX as usize) - ALIGN {
            return Err(format!("cannot allocate {bytes} bytes"));
        }
        let ptr = if bytes == 0 {
            std::ptr::null_mut()
        } else {
            let cap = capacity(bytes);
            match self.pool.get_mut(&cap).and_then(|l| l.pop()) {
                Some(p) => {
                    self.pooled_bytes -= cap;
                    p
                }
                None => {
                    let layout = Layout::from_size_align(cap, ALIGN).map_err(|e| e.to_string())?;
                    // SAFETY: cap > 0.
                    let p = unsafe { alloc(layout) };
                    if p.is_null() {
                        // Give the pool back to the system and try once more.
                        self.trim();
                        let p2 = unsafe { alloc(layout) };
                        if p2.is_null() {
                            return Err(format!("out of memory allocating {bytes} bytes"));
                        }
                        p2
                    } else {
                        p
                    }
                }
            }
        };
        let slot = Slot { ptr, bytes, cap: if bytes == 0 { 0 } else { capacity(bytes) }, live: true, fence: 0 };
        let id = match self.free_slots.pop() {
            Some(i) => {
                self.slots[i as usize] = slot;
                i
            }
            None => {
                if self.slots.len() >= u32::MAX as usize {
                    return Err("too many live buffers".into());
                }
                self.slots.push(slot);
                (self.slots.len() - 1) as u32
            }
        };
        self.live += 1;
        self.live_bytes += bytes;
        Ok(id)
    }

    /// Frees (or pools) a live buffer. When a queued job past `completed` still touches it,
    /// only the handle dies now; `sweep` returns the memory later.
    pub fn free(&mut self, id: u32, completed: u64) -> Result<(), String> {
        let s = self.slots.get_mut(id as usize).filter(|s| s.live).ok_or_else(|| format!("buffer handle {id} {DEAD_HANDLE} (double free?)"))?;
        s.live = false;
        let (bytes, cap, fence) = (s.bytes, s.cap, s.fence);
        self.live -= 1;
        self.live_bytes -= bytes;
        if fence > completed {
            self.deferred.push((id, fence));
            self.deferred_bytes += cap;
            return Ok(());
        }
        self.release_slot(id);
        Ok(())
    }

    /// Returns a retired slot's memory to the pool (or the system) and the slot to the free list.
    fn release_slot(&mut self, id: u32) {
        let s = &mut self.slots[id as usize];
        let (ptr, cap) = (s.ptr, s.cap);
        s.ptr = std::ptr::null_mut();
        s.fence = 0;
        self.free_slots.push(id);
        if cap == 0 {
            return;
        }
        let list = self.pool.entry(cap).or_default();
        if cap <= POOL_MAX_ALLOC && self.pooled_bytes + cap <= POOL_MAX_BYTES && list.len() < POOL_MAX_PER_SIZE {
            list.push(ptr);
            self.pooled_bytes += cap;
        } else {
            // SAFETY: allocated with this layout in `alloc`.
            unsafe { dealloc(ptr, Layout::from_size_align_unchecked(cap, ALIGN)) };
        }
    }

    /// Releases the deferred frees whose jobs have completed; returns the slots released.
    pub fn sweep(&mut self, completed: u64) -> Vec<u32> {
        if self.deferred.is_empty() {
            return Vec::new();
        }
        let mut done = Vec::new();
        let mut i = 0;
        while i < self.deferred.len() {
            let (id, fence) = self.deferred[i];
            if fence <= completed {
                self.deferred.swap_remove(i);
                self.deferred_bytes -= self.slots[id as usize].cap;
                self.release_slot(id);
                done.push(id);
            } else {
                i += 1;
            }
        }
        done
    }

    /// The fence of a slot (live or retired); 0 for unknown handles.
    #[inline(always)]
    pub fn fence(&self, id: u32) -> u64 {
        self.slots.get(id as usize).map_or(0, |s| s.fence)
    }

    /// Marks a live buffer as touched by queued job `seq`.
    #[inline]
    pub fn set_fence(&mut self, id: u32, seq: u64) {
        if let Some(s) = self.slots.get_mut(id as usize) {
            s.fence = s.fence.max(seq);
        }
    }

    /// Base pointer and byte length of a live buffer.
    #[inline]
    pub fn get(&self, id: u32) -> Result<(*mut u8, usize), String> {
        match self.slots.get(id as usize) {
            Some(s) if s.live => Ok((s.ptr, s.bytes)),
            _ => Err(format!("buffer handle {id} {DEAD_HANDLE} (used after release?)")),
        }
    }

    /// Returns every pooled allocation to the system.
    pub fn trim(&mut self) {
        for (cap, list) in self.pool.drain() {
            for p in list {
                unsafe { dealloc(p, Layout::from_size_align_unchecked(cap, ALIGN)) };
            }
        }
        self.pooled_bytes = 0;
    }

    /// Frees everything, live buffers included (the caller makes sure no job is running).
    pub fn clear(&mut self) {
        self.trim();
        self.deferred.clear();
        self.deferred_bytes = 0;
        for s in self.slots.drain(..) {
            if !s.ptr.is_null() && s.cap > 0 {
                unsafe { dealloc(s.ptr, Layout::from_size_align_unchecked(s.cap, ALIGN)) };
            }
        }
        self.free_slots.clear();
        self.live = 0;
        self.live_bytes = 0;
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounting_and_pooling() {
        let mut s = Storage::new();
        let a = s.alloc(10).unwrap();
        let b = s.alloc(0).unwrap();
        assert_eq!((s.live, s.live_bytes), (2, 10));
        let (p, n) = s.get(a).unwrap();
        assert_eq!(n, 10);
        assert_eq!(p as usize % ALIGN, 0);
        s.free(a, 0).unwrap();
        assert_eq!((s.live, s.live_bytes, s.pooled_bytes), (1, 0, 64));
        assert!(s.get(a).is_err());
        assert!(s.free(a, 0).is_err());
        let c = s.alloc(12).unwrap();
        assert_eq!(s.get(c).unwrap().0, p, "pooled allocation reused");
        assert_eq!(s.pooled_bytes, 0);
        s.free(b, 0).unwrap();
        s.free(c, 0).unwrap();
        assert_eq!((s.live, s.live_bytes), (0, 0));
        s.clear();
        assert_eq!(s.pooled_bytes, 0);
    }

    #[test]
    fn frees_wait_for_their_fence() {
        let mut s = Storage::new();
        let a = s.alloc(100).unwrap();
        let (p, _) = s.get(a).unwrap();
        s.set_fence(a, 3);
        s.free(a, 2).unwrap();
        assert_eq!((s.live, s.live_bytes, s.deferred_bytes, s.pooled_bytes), (0, 0, 128, 0));
        assert!(s.get(a).is_err(), "the handle dies at once");
        let b = s.alloc(100).unwrap();
        assert_ne!(b, a, "the slot is not reused while its job may run");
        assert_ne!(s.get(b).unwrap().0, p, "nor is the memory");
        assert!(s.sweep(2).is_empty());
        assert_eq!(s.sweep(3), vec![a]);
        assert_eq!((s.deferred_bytes, s.pooled_bytes), (0, 128));
        s.free(b, 3).unwrap();
        s.clear();
        assert_eq!((s.live, s.deferred_bytes, s.pooled_bytes), (0, 0, 0));
    }
}
