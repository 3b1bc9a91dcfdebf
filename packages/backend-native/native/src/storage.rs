//! Rust-owned buffers behind integer handles: 64-byte aligned allocations, a slab of slots
//! (a handle is a slot index; freed slots are reused) and a pool of freed allocations keyed
//! by their rounded capacity. Live counts and bytes are exact (`bytes` as requested).

use std::alloc::{alloc, dealloc, Layout};
use std::collections::HashMap;

pub const ALIGN: usize = 64;
/// Pool limits: total bytes kept, largest allocation kept, allocations kept per size.
const POOL_MAX_BYTES: usize = 256 << 20;
const POOL_MAX_ALLOC: usize = 64 << 20;
const POOL_MAX_PER_SIZE: usize = 8;

struct Slot {
    ptr: *mut u8,
    bytes: usize,
    cap: usize,
    live: bool,
}

/// One backend instance's buffers.
pub struct Storage {
    slots: Vec<Slot>,
    free_slots: Vec<u32>,
    pool: HashMap<usize, Vec<*mut u8>>,
    pub live: usize,
    pub live_bytes: usize,
    pub pooled_bytes: usize,
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
        Storage { slots: Vec::new(), free_slots: Vec::new(), pool: HashMap::new(), live: 0, live_bytes: 0, pooled_bytes: 0 }
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
        let slot = Slot { ptr, bytes, cap: if bytes == 0 { 0 } else { capacity(bytes) }, live: true };
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

    /// Frees (or pools) a live buffer.
    pub fn free(&mut self, id: u32) -> Result<(), String> {
        let s = self.slots.get_mut(id as usize).filter(|s| s.live).ok_or_else(|| format!("buffer handle {id} is not live (double free?)"))?;
        s.live = false;
        let (ptr, bytes, cap) = (s.ptr, s.bytes, s.cap);
        s.ptr = std::ptr::null_mut();
        self.free_slots.push(id);
        self.live -= 1;
        self.live_bytes -= bytes;
        if cap == 0 {
            return Ok(());
        }
        let list = self.pool.entry(cap).or_default();
        if cap <= POOL_MAX_ALLOC && self.pooled_bytes + cap <= POOL_MAX_BYTES && list.len() < POOL_MAX_PER_SIZE {
            list.push(ptr);
            self.pooled_bytes += cap;
        } else {
            // SAFETY: allocated with this layout in `alloc`.
            unsafe { dealloc(ptr, Layout::from_size_align_unchecked(cap, ALIGN)) };
        }
        Ok(())
    }

    /// Base pointer and byte length of a live buffer.
    #[inline]
    pub fn get(&self, id: u32) -> Result<(*mut u8, usize), String> {
        match self.slots.get(id as usize) {
            Some(s) if s.live => Ok((s.ptr, s.bytes)),
            _ => Err(format!("buffer handle {id} is not live (used after release?)")),
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

    /// Frees everything, live buffers included.
    pub fn clear(&mut self) {
        self.trim();
        for s in self.slots.drain(..) {
            if s.live && s.cap > 0 {
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
        s.free(a).unwrap();
        assert_eq!((s.live, s.live_bytes, s.pooled_bytes), (1, 0, 64));
        assert!(s.get(a).is_err());
        assert!(s.free(a).is_err());
        let c = s.alloc(12).unwrap();
        assert_eq!(s.get(c).unwrap().0, p, "pooled allocation reused");
        assert_eq!(s.pooled_bytes, 0);
        s.free(b).unwrap();
        s.free(c).unwrap();
        assert_eq!((s.live, s.live_bytes), (0, 0));
        s.clear();
        assert_eq!(s.pooled_bytes, 0);
    }
}
