//! How a kernel call is dispatched: run on the JS thread, or queued on the context's worker
//! (`queue.rs`) behind the work its buffers wait for; and the Node-API side of the worker:
//! the promises of `readAsync`/`flush`, the thread-safe function that wakes the JS thread,
//! and tearing it all down.

use crate::napi::*;
use crate::queue::{Job, Queue};
use crate::view::{Res, View};
use crate::{typed_array, Ctx};
use std::os::raw::{c_char, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::null_mut;
use std::sync::Arc;

/// A JS promise waiting for a queued job.
pub(crate) struct Waiter {
    pub(crate) seq: u64,
    pub(crate) deferred: napi_deferred,
    /// For reads: the JS typed array to fill and the bytes the job copied out.
    pub(crate) read: Option<(napi_ref, Box<[u8]>)>,
}

/// Where a kernel's views are: the context's view slots `0..n`, or a list of its own.
pub(crate) enum Src {
    Slots(usize),
    Owned(Vec<View>),
}

impl Ctx {
    /// Fails with the failure a buffer holds (written by a kernel that failed off-thread).
    pub(crate) fn check_poison(&mut self, id: u32, what: &str) -> Res<()> {
        match self.queue.poisoned(id) {
            Some(f) => {
                self.err_code = f.code;
                Err(format!("{what}: the data came from a kernel that failed: {}", f.msg))
            }
            None => Ok(()),
        }
    }

    /// Runs a kernel over its views, here and now, or queues it on the worker: when it does
    /// at least `async_macs` multiply-adds (`macs` is 0 for kernels that never go by size),
    /// or when a view's buffer is still used by queued
    /// work (so it runs after that work, in call order). `outs` are the indices of the views
    /// it writes. Queued kernels keep copies of their (validated) views.
    #[inline(always)]
    pub(crate) unsafe fn submit<F>(&mut self, env: napi_env, name: &'static str, src: Src, outs: &[usize], macs: f64, f: F) -> Res<()>
    where
        F: FnOnce(&[View], usize) -> Res<()> + Send + 'static,
    {
        let done = self.queue.completed();
        let vs: &[View] = match &src {
            Src::Slots(n) => &self.views[..*n],
            Src::Owned(v) => v,
        };
        let mut queued = macs > 0.0 && macs >= self.async_macs;
        // (when nothing is outstanding at all, no fence can be open)
        if !queued && self.last_seq > done {
            for v in vs {
                if self.store.fence(v.buf) > done {
                    queued = true;
                    break;
                }
            }
        }
        if !queued {
            if self.queue.any_poison() {
                for v in vs {
                    if let Some(fl) = self.queue.poisoned(v.buf) {
                        self.err_code = fl.code;
                        return Err(format!("{name}: an input came from a kernel that failed: {}", fl.msg));
                    }
                }
            }
            return f(vs, self.threads);
        }
        self.submit_queued(env, name, src, outs, f)
    }

    /// The queued path of `submit` (kept out of line: the common path stays small).
    #[inline(never)]
    unsafe fn submit_queued<F>(&mut self, env: napi_env, name: &'static str, src: Src, outs: &[usize], f: F) -> Res<()>
    where
        F: FnOnce(&[View], usize) -> Res<()> + Send + 'static,
    {
        let owned: Vec<View> = match src {
            Src::Slots(n) => self.views[..n].to_vec(),
            Src::Owned(v) => v,
        };
        let ins: Vec<u32> = (0..owned.len()).filter(|i| !outs.contains(i)).map(|i| owned[i].buf).collect();
        let outs: Vec<u32> = outs.iter().map(|&i| owned[i].buf).collect();
        let touched: Vec<u32> = ins.iter().chain(&outs).copied().collect();
        let job = Job { seq: 0, name, ins, outs, threads: self.threads, task: Box::new(move |t| f(&owned, t)), report: false };
        let seq = self.enqueue(env, job)?;
        for id in touched {
            self.store.set_fence(id, seq);
        }
        Ok(())
    }

    /// Queues a job, starting the worker (and the thread-safe function it wakes JS with) on
    /// first use.
    pub(crate) unsafe fn enqueue(&mut self, env: napi_env, job: Job) -> Res<u64> {
        if self.worker.is_none() {
            let mut name: napi_value = null_mut();
            let label = "tessera-native";
            napi_create_string_utf8(env, label.as_ptr() as *const c_char, label.len(), &mut name);
            let fin = Arc::into_raw(self.queue.clone()) as *mut c_void;
            let mut tsfn: napi_threadsafe_function = null_mut();
            let ctx = self as *mut Ctx as *mut c_void;
            if napi_create_threadsafe_function(env, null_mut(), null_mut(), name, 0, 1, fin, Some(tsfn_finalize), ctx, Some(on_progress), &mut tsfn) != NAPI_OK {
                drop(Arc::from_raw(fin as *const Queue));
                return Err("could not create the worker's completion callback".into());
            }
            // Idle, it must not keep the process alive; it does while promises wait.
            napi_unref_threadsafe_function(env, tsfn);
            let q = self.queue.clone();
            match std::thread::Builder::new().name("tessera-native-queue".into()).spawn(move || q.work(signal)) {
                Ok(h) => self.worker = Some(h),
                Err(e) => {
                    napi_release_threadsafe_function(tsfn, NAPI_TSFN_ABORT);
                    return Err(format!("could not start the worker thread: {e}"));
                }
            }
            self.tsfn = tsfn;
            self.queue.set_tsfn(tsfn as usize);
        }
        let seq = self.queue.push(job)?;
        self.last_seq = seq;
        Ok(seq)
    }

    /// Adds a promise waiting for job `seq` (settled at once if it is already done).
    pub(crate) unsafe fn wait_for(&mut self, env: napi_env, w: Waiter) {
        self.waiters.push(w);
        if !self.tsfn_reffed && !self.tsfn.is_null() {
            napi_ref_threadsafe_function(env, self.tsfn);
            self.tsfn_reffed = true;
        }
        let done = self.queue.set_waiters(self.waiters.len());
        if self.waiters.iter().any(|w| w.seq <= done) {
            self.settle(env);
        }
    }

    /// On the JS thread: returns deferred frees and settles the promises whose jobs are done.
    pub(crate) unsafe fn settle(&mut self, env: napi_env) {
        self.queue.take_signal();
        let done = self.queue.completed();
        self.sweep(done);
        if self.waiters.is_empty() {
            return;
        }
        let (ready, rest): (Vec<Waiter>, Vec<Waiter>) = std::mem::take(&mut self.waiters).into_iter().partition(|w| w.seq <= done);
        self.waiters = rest;
        self.queue.set_waiters(self.waiters.len());
        for w in ready {
            let failure = if w.read.is_some() { self.queue.take_failure(w.seq) } else { None };
            if let Some((r, bytes)) = w.read {
                if failure.is_none() {
                    let mut arr: napi_value = null_mut();
                    napi_get_reference_value(env, r, &mut arr);
                    if let Ok((dst, len, _)) = typed_array(env, arr, 1) {
                        std::ptr::copy_nonoverlapping(bytes.as_ptr(), dst, len.min(bytes.len()));
                    }
                }
                napi_delete_reference(env, r);
            }
            match failure {
                Some(f) => reject(env, w.deferred, f.code, &f.msg),
                None => {
                    let mut u: napi_value = null_mut();
                    napi_get_undefined(env, &mut u);
                    napi_resolve_deferred(env, w.deferred, u);
                }
            }
        }
        if self.waiters.is_empty() && self.tsfn_reffed {
            napi_unref_threadsafe_function(env, self.tsfn);
            self.tsfn_reffed = false;
        }
    }

    /// Returns the memory of freed buffers whose queued jobs are done.
    pub(crate) fn sweep(&mut self, done: u64) {
        let freed = self.store.sweep(done);
        self.queue.forget(&freed);
    }

    /// Stops the worker (after its current job; queued jobs are dropped), rejects waiting
    /// promises and frees every buffer.
    pub(crate) unsafe fn teardown(&mut self, env: napi_env) {
        self.gate.store(true, std::sync::atomic::Ordering::Release);
        self.queue.shutdown();
        if let Some(h) = self.worker.take() {
            let _ = h.join();
        }
        for w in std::mem::take(&mut self.waiters) {
            if let Some((r, _)) = w.read {
                napi_delete_reference(env, r);
            }
            reject(env, w.deferred, "ERR_TESSERA_NATIVE_HANDLE", "the backend was disposed before the work finished");
        }
        let tsfn = self.queue.set_tsfn(0);
        if tsfn != 0 {
            napi_release_threadsafe_function(tsfn as napi_threadsafe_function, NAPI_TSFN_ABORT);
        }
        self.tsfn = null_mut();
        self.tsfn_reffed = false;
        self.store.clear();
        self.disposed = true;
    }
}

/// The worker's wake-up call to the JS thread.
unsafe fn signal(tsfn: usize) {
    napi_call_threadsafe_function(tsfn as napi_threadsafe_function, null_mut(), NAPI_TSFN_NONBLOCKING);
}

/// Runs on the JS thread after the worker finished jobs that promises wait for.
unsafe extern "C" fn on_progress(env: napi_env, _cb: napi_value, ctx: *mut c_void, _data: *mut c_void) {
    if env.is_null() || ctx.is_null() {
        return; // the function is being torn down
    }
    let c = &mut *(ctx as *mut Ctx);
    if !c.disposed {
        let _ = catch_unwind(AssertUnwindSafe(|| c.settle(env)));
    }
}

/// The thread-safe function is gone (released, or the environment is shutting down).
unsafe extern "C" fn tsfn_finalize(_env: napi_env, data: *mut c_void, _hint: *mut c_void) {
    if !data.is_null() {
        let q = Arc::from_raw(data as *const Queue);
        q.set_tsfn(0);
    }
}

unsafe fn js_string(env: napi_env, s: &str) -> napi_value {
    let mut v: napi_value = null_mut();
    napi_create_string_utf8(env, s.as_ptr() as *const c_char, s.len(), &mut v);
    v
}

/// Rejects a promise with an `Error` carrying `code`.
pub(crate) unsafe fn reject(env: napi_env, deferred: napi_deferred, code: &str, msg: &str) {
    let mut err: napi_value = null_mut();
    napi_create_error(env, js_string(env, code), js_string(env, &format!("native backend: {msg}")), &mut err);
    napi_reject_deferred(env, deferred, err);
}

