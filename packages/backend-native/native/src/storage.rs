//! Rust-owned buffers behind integer handles: 64-byte aligned allocations, a slab of slots
//! (freed slots are reused) and a pool of freed allocations keyed by their rounded
//! capacity. Live counts and bytes are exact (`bytes` as requested).
//!
//! A handle is not a bare slot index: it packs the slot, the slot's *generation* (bumped
//! each time a buffer in the slot dies) and the storage's *tag* (which backend instance
//! made it) into one integer below 2^53, so it travels exactly through the JS side's
//! Float64Array. A handle resolves only while it equals the one its slot holds, so a stale
//! handle (its buffer freed, the slot since reused) or another instance's handle is an
//! error instead of silently addressing someone else's buffer. The check is one compare.
//!
//! Each slot carries a *fence*: the sequence number of the last job queued on the background
//! worker that touches the buffer (see `queue.rs`). Freeing a buffer whose fence has not
//! completed only retires its handle; the memory is returned (pooled or freed) by `sweep`
//! once the worker is past the fence, so a queued kernel never sees its memory reused.

use std::alloc::{alloc, dealloc, Layout};
use std::collections::HashMap;
use std::sync::Mutex;

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

/// Handle layout (low to high bits): slot (24), generation (21), tag (8): 53 bits in all,
/// so every handle is an exact float64 integer.
const SLOT_BITS: u32 = 24;
const GEN_BITS: u32 = 21;
const TAG_BITS: u32 = 8;
/// Most slots (hence live buffers) a storage has.
pub const MAX_SLOTS: usize = 1 << SLOT_BITS;
/// A slot whose generation reaches this is retired instead of reused, so a generation
/// never wraps around to one a stale handle still carries.
const GEN_MAX: u32 = (1 << GEN_BITS) - 1;

/// Packs a handle.
#[inline(always)]
fn pack(tag: u64, slot: u32, gen: u32) -> u64 {
    (tag << (SLOT_BITS + GEN_BITS)) | ((gen as u64) << SLOT_BITS) | slot as u64
}

/// The slot a handle names (whether or not the handle is valid).
#[inline(always)]
pub fn slot_of(handle: u64) -> u32 {
    (handle & (MAX_SLOTS as u64 - 1)) as u32
}

fn gen_of(handle: u64) -> u32 {
    ((handle >> SLOT_BITS) & GEN_MAX as u64) as u32
}

fn tag_of(handle: u64) -> u64 {
    handle >> (SLOT_BITS + GEN_BITS)
}

/// Tags of live storages (index = tag; tag 0 is never handed out, so a bare slot index is
/// never a valid handle) and the last tag handed out.
static TAGS: Mutex<([bool; 1 << TAG_BITS], usize)> = Mutex::new(([false; 1 << TAG_BITS], 0));

/// A tag for a new storage: the next one round-robin that no live storage holds, so tags
/// of live instances differ (up to 255 at once; beyond that they are shared) and a freed
/// tag is reused as late as possible.
fn take_tag() -> u64 {
    let mut t = TAGS.lock().unwrap_or_else(|e| e.into_inner());
    let n = t.0.len();
    let mut cand = t.1;
    for _ in 0..n {
        cand = cand % (n - 1) + 1; // 1..=255
        if !t.0[cand] {
            break;
        }
    }
    t.0[cand] = true;
    t.1 = cand;
    cand as u64
}

fn give_tag(tag: u64) {
    let mut t = TAGS.lock().unwrap_or_else(|e| e.into_inner());
    t.0[tag as usize] = false;
}

struct Slot {
    ptr: *mut u8,
    bytes: usize,
    cap: usize,
    live: bool,
    /// Bumped when the slot's buffer dies (free or clear).
    gen: u32,
    /// The handle of the slot's live buffer (unused while not live).
    handle: u64,
    /// Last queued job touching the buffer (0: none).
    fence: u64,
}

/// One backend instance's buffers.
pub struct Storage {
    /// This instance's tag, the top bits of every handle it makes.
    tag: u64,
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
        Storage { tag: take_tag(), slots: Vec::new(), free_slots: Vec::new(), pool: HashMap::new(), deferred: Vec::new(), live: 0, live_bytes: 0, pooled_bytes: 0, deferred_bytes: 0 }
    }

    /// A new buffer of `bytes` bytes (contents unspecified); returns its handle.
    pub fn alloc(&mut self, bytes: usize) -> Result<u64, String> {
        if bytes > (isize::MAX as usize) - ALIGN {
            return Err(format!("cannot allocate {bytes} bytes"));
        }
        if self.free_slots.is_empty() && self.slots.len() >= MAX_SLOTS {
            return Err(format!("too many live buffers (at most {MAX_SLOTS})"));
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
        let cap = if bytes == 0 { 0 } else { capacity(bytes) };
        let tag = self.tag;
        let handle = match self.free_slots.pop() {
            Some(i) => {
                let s = &mut self.slots[i as usize];
                let handle = pack(tag, i, s.gen);
                *s = Slot { ptr, bytes, cap, live: true, gen: s.gen, handle, fence: 0 };
                handle
            }
            None => {
                let i = self.slots.len() as u32;
                let handle = pack(tag, i, 0);
                self.slots.push(Slot { ptr, bytes, cap, live: true, gen: 0, handle, fence: 0 });
                handle
            }
        };
        self.live += 1;
        self.live_bytes += bytes;
        Ok(handle)
    }

    /// The slot of a live buffer's handle. Everything that takes a handle from JS resolves it
    /// here (or in `get`/`free`): one compare against the handle the slot holds.
    #[inline(always)]
    fn resolve(&self, handle: u64) -> Option<(u32, &Slot)> {
        let i = slot_of(handle);
        match self.slots.get(i as usize) {
            Some(s) if s.live && s.handle == handle => Some((i, s)),
            _ => None,
        }
    }

    /// Why `handle` does not resolve (kept out of line: only the error path formats).
    #[cold]
    #[inline(never)]
    pub fn handle_error(&self, handle: u64, what: &str) -> String {
        let (i, g, t) = (slot_of(handle), gen_of(handle), tag_of(handle));
        let name = format!("buffer handle {handle} (slot {i}, generation {g})");
        if handle >= 1 << (SLOT_BITS + GEN_BITS + TAG_BITS) {
            return format!("{name} {DEAD_HANDLE}: not a handle this backend makes");
        }
        if t != self.tag {
            return format!("{name} {DEAD_HANDLE} in this backend: it was made by another native backend instance (or is not a handle at all)");
        }
        match self.slots.get(i as usize) {
            Some(s) if s.live && g < s.gen => format!("{name} {DEAD_HANDLE}: its buffer was released and the slot now holds a newer buffer (generation {}); {what}", s.gen),
            Some(s) if g < s.gen => format!("{name} {DEAD_HANDLE}: its buffer was released; {what}"),
            _ => format!("{name} {DEAD_HANDLE}: no buffer was ever allocated under it"),
        }
    }

    /// Frees (or pools) a live buffer; returns its slot. When a queued job past `completed`
    /// still touches it, only the handle dies now; `sweep` returns the memory later.
    pub fn free(&mut self, handle: u64, completed: u64) -> Result<u32, String> {
        let Some((id, _)) = self.resolve(handle) else {
            return Err(self.handle_error(handle, "double free?"));
        };
        let s = &mut self.slots[id as usize];
        s.live = false;
        s.gen += 1; // every copy of the handle is dead from here on
        let (bytes, cap, fence) = (s.bytes, s.cap, s.fence);
        self.live -= 1;
        self.live_bytes -= bytes;
        if fence > completed {
            self.deferred.push((id, fence));
            self.deferred_bytes += cap;
            return Ok(id);
        }
        self.release_slot(id);
        Ok(id)
    }

    /// Returns a retired slot's memory to the pool (or the system) and the slot to the free list.
    fn release_slot(&mut self, id: u32) {
        let s = &mut self.slots[id as usize];
        let (ptr, cap) = (s.ptr, s.cap);
        s.ptr = std::ptr::null_mut();
        s.fence = 0;
        if s.gen < GEN_MAX {
            self.free_slots.push(id);
        } // else retired for good: its next generation would wrap around
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

    /// Slot, base pointer and byte length of a live buffer.
    #[inline(always)]
    pub fn get(&self, handle: u64) -> Result<(u32, *mut u8, usize), String> {
        match self.resolve(handle) {
            Some((i, s)) => Ok((i, s.ptr, s.bytes)),
            None => Err(self.handle_error(handle, "used after release?")),
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
    /// The slots stay, with their generations bumped, so no earlier handle comes back to life.
    pub fn clear(&mut self) {
        self.trim();
        self.deferred.clear();
        self.deferred_bytes = 0;
        self.free_slots.clear();
        for (i, s) in self.slots.iter_mut().enumerate() {
            if !s.ptr.is_null() && s.cap > 0 {
                unsafe { dealloc(s.ptr, Layout::from_size_align_unchecked(s.cap, ALIGN)) };
            }
            if s.live {
                s.live = false;
                s.gen += 1;
            }
            s.ptr = std::ptr::null_mut();
            s.fence = 0;
            if s.gen < GEN_MAX {
                self.free_slots.push(i as u32);
            }
        }
        self.live = 0;
        self.live_bytes = 0;
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        self.clear();
        give_tag(self.tag);
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
        let (_, p, n) = s.get(a).unwrap();
        assert_eq!(n, 10);
        assert_eq!(p as usize % ALIGN, 0);
        s.free(a, 0).unwrap();
        assert_eq!((s.live, s.live_bytes, s.pooled_bytes), (1, 0, 64));
        assert!(s.get(a).is_err());
        assert!(s.free(a, 0).is_err());
        let c = s.alloc(12).unwrap();
        assert_eq!(s.get(c).unwrap().1, p, "pooled allocation reused");
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
        let (sa, p, _) = s.get(a).unwrap();
        s.set_fence(sa, 3);
        s.free(a, 2).unwrap();
        assert_eq!((s.live, s.live_bytes, s.deferred_bytes, s.pooled_bytes), (0, 0, 128, 0));
        assert!(s.get(a).is_err(), "the handle dies at once");
        let b = s.alloc(100).unwrap();
        assert_ne!(slot_of(b), sa, "the slot is not reused while its job may run");
        assert_ne!(s.get(b).unwrap().1, p, "nor is the memory");
        assert!(s.sweep(2).is_empty());
        assert_eq!(s.sweep(3), vec![sa]);
        assert_eq!((s.deferred_bytes, s.pooled_bytes), (0, 128));
        s.free(b, 3).unwrap();
        s.clear();
        assert_eq!((s.live, s.deferred_bytes, s.pooled_bytes), (0, 0, 0));
    }
    #[test]
    fn stale_handles_of_a_reused_slot_are_rejected() {
        let mut s = Storage::new();
        let a = s.alloc(16).unwrap();
        s.free(a, 0).unwrap();
        let b = s.alloc(16).unwrap();
        assert_eq!(slot_of(b), slot_of(a), "the slot is reused");
        assert_ne!(b, a, "under a new generation");
        let (_, pb, _) = s.get(b).unwrap();
        let e = s.get(a).unwrap_err();
        assert!(e.contains(DEAD_HANDLE) && e.contains("newer buffer"), "{e}");
        let e = s.free(a, 0).unwrap_err();
        assert!(e.contains(DEAD_HANDLE) && e.contains("double free"), "{e}");
        assert_eq!((s.live, s.live_bytes), (1, 16), "the stale free left the new buffer alone");
        assert_eq!(s.get(b).unwrap().1, pb);
        // a freed slot with nothing in it yet, a bare slot index and a forged future generation
        s.free(b, 0).unwrap();
        assert!(s.get(b).unwrap_err().contains("was released"));
        assert!(s.get(slot_of(b) as u64).unwrap_err().contains("another native backend"));
        let future = pack(s.tag, slot_of(b), gen_of(b) + 5);
        assert!(s.get(future).unwrap_err().contains("no buffer was ever allocated"));
        assert!(s.get(1 << 53).unwrap_err().contains("not a handle"));
        // clear() kills every handle for good, and the storage stays usable
        let c = s.alloc(8).unwrap();
        s.clear();
        assert!(s.get(c).is_err());
        let d = s.alloc(8).unwrap();
        assert!(s.get(c).is_err() && s.get(d).is_ok());
        s.free(d, 0).unwrap();
    }

    #[test]
    fn handles_of_another_storage_are_rejected() {
        let mut x = Storage::new();
        let mut y = Storage::new();
        assert_ne!(x.tag, y.tag, "live storages have distinct tags");
        let hx = x.alloc(4).unwrap();
        let hy = y.alloc(4).unwrap();
        assert_eq!((slot_of(hx), gen_of(hx)), (slot_of(hy), gen_of(hy)), "same slot and generation");
        let e = y.get(hx).unwrap_err();
        assert!(e.contains("another native backend instance"), "{e}");
        assert!(y.free(hx, 0).is_err());
        assert_eq!(y.live, 1);
        assert!(x.tag > 0 && y.tag > 0, "tag 0 is never handed out");
    }

    #[test]
    fn a_slot_is_retired_before_its_generation_wraps() {
        let mut s = Storage::new();
        let a = s.alloc(4).unwrap();
        let i = slot_of(a);
        s.slots[i as usize].gen = GEN_MAX - 1; // as if freed 2^21 - 2 times
        s.slots[i as usize].handle = pack(s.tag, i, GEN_MAX - 1);
        let last = pack(s.tag, i, GEN_MAX - 1);
        s.free(last, 0).unwrap();
        let b = s.alloc(4).unwrap();
        assert_ne!(slot_of(b), i, "the exhausted slot is not reused");
        assert!(s.get(last).is_err());
        s.free(b, 0).unwrap();
        assert_eq!(s.free_slots, vec![slot_of(b)]);
        let _ = a;
    }

    #[test]
    fn handles_are_exact_float64_integers() {
        let h = pack((1 << TAG_BITS) - 1, (MAX_SLOTS - 1) as u32, GEN_MAX - 1);
        assert!(h < 1 << 53);
        assert_eq!(h as f64 as u64, h);
        assert_eq!((slot_of(h), gen_of(h), tag_of(h)), ((MAX_SLOTS - 1) as u32, GEN_MAX - 1, 255));
    }
}
