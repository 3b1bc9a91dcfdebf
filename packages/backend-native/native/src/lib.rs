//! `@tessera/backend-native`'s addon: Tessera's kernel interface in Rust, with no crates.
//!
//! The module exports `create(scratch, threads)` and `info()`. `create` makes one backend
//! context (its own storage) and returns an object of zero-argument functions bound to it:
//! the JS side writes each call's arguments (op codes, buffer handles, view shapes and
//! strides, scalars) into the shared `scratch` Float64Array and calls the function, so a
//! call costs one Node-API callback and no allocation. Results that are numbers come back in
//! `scratch[0..]`. Every entry point validates its arguments (views are bounds-checked
//! against their buffers), catches panics, and throws a JS `Error` with a `code` instead.
//!
//! Long kernels (matmul and convolutions of at least `asyncMacs` multiply-adds) and every
//! kernel touching a buffer such a kernel has not finished with are queued on a background
//! worker (`queue.rs`) instead of running on the JS thread; `readAsync` and `flush` return
//! promises that settle when the work they wait for is done.

// Numeric kernels index several arrays in lockstep and take many scalar parameters.
#![allow(clippy::missing_safety_doc, clippy::needless_range_loop, clippy::too_many_arguments)]

pub mod cpu;
mod dispatch;
pub mod elementwise;
pub mod gemm;
pub mod index;
pub mod math;
pub mod matmul;
pub mod napi;
pub mod nn;
pub mod pool;
pub mod queue;
pub mod random;
pub mod reduce;
pub mod storage;
pub mod unary;
pub mod view;
pub mod window;

use dispatch::{Src, Waiter};
use napi::*;
use pool::SendPtr;
use queue::{Job, Queue};
use std::ffi::CString;
use std::os::raw::{c_char, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::null_mut;
use std::sync::Arc;
use storage::Storage;
use view::{Args, Res, View};

/// Default of `asyncMacs`: matmul/conv kernels of at least 2^25 multiply-adds (about
/// 0.3-0.5 ms of work on one core of this class) run on the background worker.
const DEFAULT_ASYNC_MACS: f64 = (1u64 << 25) as f64;

/// One backend instance.
pub struct Ctx {
    scratch: *mut f64,
    scratch_len: usize,
    scratch_ref: napi_ref,
    store: Storage,
    /// Views of the current call, parsed in place.
    views: Box<[View; 6]>,
    threads: usize,
    /// Native functions still alive (each holds a finalizer); the context is freed at zero.
    fn_refs: usize,
    disposed: bool,
    /// Multiply-adds at or above which matmul/conv kernels are queued (infinity: never).
    async_macs: f64,
    queue: Arc<Queue>,
    worker: Option<std::thread::JoinHandle<()>>,
    /// The thread-safe function the worker wakes the JS thread with (null until needed).
    tsfn: napi_threadsafe_function,
    /// `tsfn` keeps the event loop alive (it does while promises wait).
    tsfn_reffed: bool,
    waiters: Vec<Waiter>,
    /// The JS value the current call returns (null: undefined).
    ret: napi_value,
    /// The error code of the current call's `Err`.
    err_code: &'static str,
    /// The last sequence number this thread queued (fences can only be open below it).
    last_seq: u64,
    /// Test hook: a queued "hold" job waits until this is set.
    gate: Arc<std::sync::atomic::AtomicBool>,
}

impl Ctx {
    fn args(&self) -> Args<'static> {
        // SAFETY: the scratch array is kept alive by `scratch_ref` for the context's life,
        // and JS cannot run (and so cannot replace it) during a call.
        Args::new(unsafe { std::slice::from_raw_parts(self.scratch, self.scratch_len) })
    }
    /// Parses the next view into slot `i`.
    #[inline(always)]
    fn pv(&mut self, a: &mut Args, i: usize) -> Res<()> {
        a.view_into(&self.store, &mut self.views[i])
    }
    fn out(&mut self, i: usize, v: f64) {
        if i < self.scratch_len {
            unsafe { *self.scratch.add(i) = v };
        }
    }
    #[inline(always)]
    fn view(&self, a: &mut Args) -> Res<View> {
        a.view(&self.store)
    }
}

unsafe fn throw(env: napi_env, code: &str, msg: &str) {
    let mut pending = false;
    napi_is_exception_pending(env, &mut pending);
    if pending {
        return;
    }
    let c = CString::new(code.replace('\0', " ")).unwrap_or_default();
    let m = CString::new(format!("native backend: {}", msg.replace('\0', " "))).unwrap_or_default();
    napi_throw_error(env, c.as_ptr(), m.as_ptr());
}

/// Reads the callback's data pointer (the context) and up to one argument.
unsafe fn cb_info(env: napi_env, info: napi_callback_info) -> (*mut Ctx, napi_value, usize) {
    let mut argc = 1usize;
    let mut argv: [napi_value; 1] = [null_mut()];
    let mut data: *mut c_void = null_mut();
    napi_get_cb_info(env, info, &mut argc, argv.as_mut_ptr(), null_mut(), &mut data);
    (data as *mut Ctx, argv[0], argc)
}

/// Runs `body` with panics caught; errors become JS exceptions (with the code the context
/// set, if any; handle errors name the entry point `op`, since the storage that finds them
/// does not know it); on success the call returns the context's `ret`.
unsafe fn guard(env: napi_env, ctx: *mut Ctx, op: &str, body: impl FnOnce() -> Res<()>) -> napi_value {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => {
            if !ctx.is_null() {
                return std::mem::replace(&mut (*ctx).ret, null_mut());
            }
        }
        Ok(Err(msg)) => {
            let code = if ctx.is_null() { "ERR_TESSERA_NATIVE" } else { (*ctx).err_code };
            // a panic a thread-pool task caught comes back as an error
            let code = match code {
                "ERR_TESSERA_NATIVE" if msg.contains(pool::PANIC_MARK) => "ERR_TESSERA_NATIVE_PANIC",
                "ERR_TESSERA_NATIVE" if msg.contains(storage::DEAD_HANDLE) => "ERR_TESSERA_NATIVE_HANDLE",
                c => c,
            };
            if code == "ERR_TESSERA_NATIVE_HANDLE" {
                throw(env, code, &format!("{op}: {msg}"))
            } else {
                throw(env, code, &msg)
            }
        }
        Err(p) => throw(env, "ERR_TESSERA_NATIVE_PANIC", &pool::panic_error(&*p)),
    }
    null_mut()
}

/// Defines an `extern "C"` entry point bound to a context. `$op` is its JS name (handle
/// errors name it); `$arg` is `(env, argv0, argc)`.
macro_rules! entry {
    ($name:ident, $op:literal, |$ctx:ident, $arg:ident| $body:expr) => {
        unsafe extern "C" fn $name(env: napi_env, info: napi_callback_info) -> napi_value {
            let (ctxp, argv0, argc) = cb_info(env, info);
            if !ctxp.is_null() {
                (*ctxp).ret = null_mut();
                (*ctxp).err_code = "ERR_TESSERA_NATIVE";
            }
            guard(env, ctxp, $op, || {
                if ctxp.is_null() {
                    return Err("missing context".into());
                }
                let $ctx: &mut Ctx = &mut *ctxp;
                if $ctx.disposed {
                    $ctx.err_code = "ERR_TESSERA_NATIVE_HANDLE";
                    return Err("the backend was disposed; create a new one with createNativeBackend()".into());
                }
                #[allow(unused_variables)]
                let $arg = (env, argv0, argc);
                $body
            })
        }
    };
}

/// A typed array argument: (data pointer, byte length, napi typedarray type).
unsafe fn typed_array(env: napi_env, v: napi_value, argc: usize) -> Res<(*mut u8, usize, i32)> {
    if argc < 1 || v.is_null() {
        return Err("expected a typed array argument".into());
    }
    let mut is_ta = false;
    napi_is_typedarray(env, v, &mut is_ta);
    if !is_ta {
        return Err("expected a typed array argument".into());
    }
    let (mut ty, mut len, mut data) = (0i32, 0usize, null_mut::<c_void>());
    if napi_get_typedarray_info(env, v, &mut ty, &mut len, &mut data, null_mut(), null_mut()) != NAPI_OK {
        return Err("could not read the typed array".into());
    }
    let es = match ty {
        TA_INT8 | TA_UINT8 | TA_UINT8_CLAMPED => 1,
        TA_INT32 | TA_UINT32 | TA_FLOAT32 => 4,
        TA_FLOAT64 => 8,
        3 | 4 => 2,
        _ => 8,
    };
    Ok((data as *mut u8, len * es, ty))
}

// ------------------------------------------------------------------------------------
// Storage

entry!(js_alloc, "alloc", |c, _a| {
    let bytes = c.args().usize()?;
    c.sweep(c.queue.completed());
    let id = c.store.alloc(bytes)?;
    c.out(0, id as f64);
    Ok(())
});

entry!(js_free, "free", |c, _a| {
    let handle = c.args().handle()?;
    let done = c.queue.completed();
    let id = c.store.free(handle, done)?;
    if c.store.fence(id) <= done {
        c.queue.forget(&[id]);
    }
    c.sweep(done);
    Ok(())
});

/// Bounds-checked byte range of a live buffer: `[handle, byteOffset]` and a length; returns
/// the buffer's slot and the pointer.
fn buf_range(c: &Ctx, len: usize) -> Res<(u32, *mut u8)> {
    let mut a = c.args();
    let handle = a.handle()?;
    let off = a.usize()?;
    let (id, p, bytes) = c.store.get(handle)?;
    if off.checked_add(len).is_none_or(|e| e > bytes) {
        return Err(format!("access of {len} bytes at byte {off} is outside a buffer of {bytes} bytes"));
    }
    Ok((id, if len == 0 { p } else { unsafe { p.add(off) } }))
}

entry!(js_write, "write", |c, a| {
    let (src, len, _) = typed_array(a.0, a.1, a.2)?;
    let (id, dst) = buf_range(c, len)?;
    c.queue.wait(c.store.fence(id)); // queued work on this buffer comes first
    if len > 0 {
        std::ptr::copy_nonoverlapping(src, dst, len);
    }
    Ok(())
});

// Synchronous read: blocks while queued work on the buffer runs.
entry!(js_read, "read", |c, a| {
    let (dst, len, _) = typed_array(a.0, a.1, a.2)?;
    let (id, src) = buf_range(c, len)?;
    c.queue.wait(c.store.fence(id));
    c.check_poison(id, "read")?;
    if len > 0 {
        std::ptr::copy_nonoverlapping(src, dst, len);
    }
    Ok(())
});

// Asynchronous read: copies at once (returning undefined) when no queued work touches the
// buffer; otherwise queues the copy behind that work and returns a promise that settles
// (after filling `dst` on the JS thread) when it has run.
entry!(js_read_async, "readAsync", |c, a| {
    let (dst, len, _) = typed_array(a.0, a.1, a.2)?;
    let (id, src) = buf_range(c, len)?;
    let env = a.0;
    if c.store.fence(id) <= c.queue.completed() {
        c.check_poison(id, "read")?;
        if len > 0 {
            std::ptr::copy_nonoverlapping(src, dst, len);
        }
        return Ok(());
    }
    let mut staging = vec![0u8; len].into_boxed_slice();
    let (from, to) = (SendPtr(src), SendPtr(staging.as_mut_ptr()));
    let task = Box::new(move |_t: usize| -> Res<()> {
        unsafe { std::ptr::copy_nonoverlapping(from.get(), to.get(), len) };
        Ok(())
    });
    let seq = c.enqueue(env, Job { seq: 0, name: "read", ins: vec![id], outs: vec![], threads: 1, task, report: true })?;
    c.store.set_fence(id, seq);
    let mut target: napi_ref = null_mut();
    let (mut deferred, mut promise): (napi_deferred, napi_value) = (null_mut(), null_mut());
    if napi_create_reference(env, a.1, 1, &mut target) != NAPI_OK || napi_create_promise(env, &mut deferred, &mut promise) != NAPI_OK {
        c.queue.wait(seq); // the job holds the staging buffer: let it finish first
        if !target.is_null() {
            napi_delete_reference(env, target);
        }
        return Err("could not create a promise".into());
    }
    c.ret = promise;
    c.wait_for(env, Waiter { seq, deferred, read: Some((target, staging)) });
    Ok(())
});

// A promise for "every queued job so far has run" (undefined when nothing is queued).
entry!(js_flush, "flush", |c, a| {
    let seq = c.queue.submitted();
    if seq <= c.queue.completed() {
        c.sweep(seq);
        return Ok(());
    }
    let (mut deferred, mut promise): (napi_deferred, napi_value) = (null_mut(), null_mut());
    if napi_create_promise(a.0, &mut deferred, &mut promise) != NAPI_OK {
        return Err("could not create a promise".into());
    }
    c.ret = promise;
    c.wait_for(a.0, Waiter { seq, deferred, read: None });
    Ok(())
});

// → `scratch[0]` = jobs queued or running.
entry!(js_pending, "pending", |c, _a| {
    let n = c.queue.submitted() - c.queue.completed();
    c.out(0, n as f64);
    Ok(())
});

// `[macs]`: the size from which matmul/conv kernels are queued (Infinity: never).
entry!(js_set_async, "setAsync", |c, _a| {
    let v = c.args().f()?;
    if v.is_nan() || v < 0.0 {
        return Err(format!("asyncMacs must be a number >= 0, got {v}"));
    }
    c.async_macs = v;
    Ok(())
});

entry!(js_stats, "stats", |c, _a| {
    c.sweep(c.queue.completed());
    let (l, b, p) = (c.store.live, c.store.live_bytes, c.store.pooled_bytes + c.store.deferred_bytes);
    c.out(0, l as f64);
    c.out(1, b as f64);
    c.out(2, p as f64);
    Ok(())
});

entry!(js_trim, "trim", |c, _a| {
    c.sweep(c.queue.completed());
    c.store.trim();
    Ok(())
});

entry!(js_set_scratch, "setScratch", |c, a| {
    let (p, len, ty) = typed_array(a.0, a.1, a.2)?;
    if ty != TA_FLOAT64 || !(p as usize).is_multiple_of(8) {
        return Err("the scratch array must be a Float64Array".into());
    }
    let mut r: napi_ref = null_mut();
    if napi_create_reference(a.0, a.1, 1, &mut r) != NAPI_OK {
        return Err("could not keep a reference to the scratch array".into());
    }
    if !c.scratch_ref.is_null() {
        napi_delete_reference(a.0, c.scratch_ref);
    }
    c.scratch = p as *mut f64;
    c.scratch_len = len / 8;
    c.scratch_ref = r;
    Ok(())
});

entry!(js_set_threads, "setThreads", |c, _a| {
    c.threads = c.args().usize()?.clamp(1, 256);
    Ok(())
});

entry!(js_dispose, "dispose", |c, a| {
    c.teardown(a.0);
    Ok(())
});

entry!(js_noop, "noop", |_c, _a| Ok(()));

// Test hook: `[mode, view]`. 0: panic on the JS thread; 1: panic in a pool task; 2: queue
// a job that panics writing `view`; 3: queue a job that fails writing `view` (these prove
// that panics and off-thread failures reach JS as typed errors); 4: queue a job that holds
// the worker until mode 5 (or 30 s), so tests can observe queued state deterministically.
entry!(js_fault, "fault", |c, a| {
    let mut r = c.args();
    let mode = r.int()?;
    match mode {
        0 => panic!("injected fault on the JS thread"),
        1 => pool::run(4, c.threads.max(2), &|i| {
            if i == 3 {
                panic!("injected fault in a pool task");
            }
        }),
        2 | 3 => {
            c.pv(&mut r, 0)?;
            let env = a.0;
            c.submit(env, "fault", Src::Owned(vec![c.views[0]]), &[0], f64::INFINITY, move |_v, _t| {
                if mode == 2 {
                    panic!("injected fault on the worker");
                }
                Err("injected failure on the worker".into())
            })
        }
        4 => {
            let gate = c.gate.clone();
            gate.store(false, std::sync::atomic::Ordering::Release);
            c.submit(a.0, "hold", Src::Owned(Vec::new()), &[], f64::INFINITY, move |_v, _t| {
                let t0 = std::time::Instant::now();
                while !gate.load(std::sync::atomic::Ordering::Acquire) && t0.elapsed().as_secs() < 30 {
                    std::thread::sleep(std::time::Duration::from_micros(200));
                }
                Ok(())
            })
        }
        5 => {
            c.gate.store(true, std::sync::atomic::Ordering::Release);
            Ok(())
        }
        _ => Err(format!("unknown fault mode {mode}")),
    }
});

// ------------------------------------------------------------------------------------
// Kernels. Each parses its views into the slots, then `submit`s a closure over them (the
// last view is the output unless noted).

entry!(js_fill, "fill", |c, a| {
    let mut r = c.args();
    c.pv(&mut r, 0)?;
    let v = r.f()?;
    c.submit(a.0, "fill", Src::Slots(1), &[0], 0.0, move |w, t| elementwise::fill(&w[0], v, t))
});

entry!(js_copy, "copy", |c, a| {
    let mut r = c.args();
    c.pv(&mut r, 0)?;
    c.pv(&mut r, 1)?;
    c.submit(a.0, "copy", Src::Slots(2), &[1], 0.0, |w, t| elementwise::copy(&w[0], &w[1], t))
});

entry!(js_cast, "cast", |c, a| {
    let mut r = c.args();
    c.pv(&mut r, 0)?;
    c.pv(&mut r, 1)?;
    c.submit(a.0, "cast", Src::Slots(2), &[1], 0.0, |w, t| elementwise::cast(&w[0], &w[1], t))
});

entry!(js_unary, "unary", |c, a| {
    let mut r = c.args();
    let op = r.int()?;
    c.pv(&mut r, 0)?;
    c.pv(&mut r, 1)?;
    c.submit(a.0, "unary", Src::Slots(2), &[1], 0.0, move |w, t| unary::unary(op, &w[0], &w[1], t))
});

entry!(js_binary, "binary", |c, a| {
    let mut r = c.args();
    let op = r.int()?;
    c.pv(&mut r, 0)?;
    c.pv(&mut r, 1)?;
    c.pv(&mut r, 2)?;
    c.submit(a.0, "binary", Src::Slots(3), &[2], 0.0, move |w, t| elementwise::binary(op, &w[0], &w[1], &w[2], t))
});

entry!(js_compare, "compare", |c, a| {
    let mut r = c.args();
    let op = r.int()?;
    c.pv(&mut r, 0)?;
    c.pv(&mut r, 1)?;
    c.pv(&mut r, 2)?;
    c.submit(a.0, "compare", Src::Slots(3), &[2], 0.0, move |w, t| elementwise::compare(op, &w[0], &w[1], &w[2], t))
});

entry!(js_where, "where", |c, a| {
    let mut r = c.args();
    c.pv(&mut r, 0)?;
    c.pv(&mut r, 1)?;
    c.pv(&mut r, 2)?;
    c.pv(&mut r, 3)?;
    c.submit(a.0, "where", Src::Slots(4), &[3], 0.0, |w, t| elementwise::where_(&w[0], &w[1], &w[2], &w[3], t))
});

entry!(js_reduce, "reduce", |c, a| {
    let mut r = c.args();
    let op = r.int()?;
    c.pv(&mut r, 0)?;
    let n = r.usize()?;
    let axes = r.usizes(n.min(view::MAXR + 1))?;
    c.pv(&mut r, 1)?;
    c.submit(a.0, "reduce", Src::Slots(2), &[1], 0.0, move |w, t| reduce::reduce(op, &w[0], &axes, &w[1], t))
});

entry!(js_arg_reduce, "argReduce", |c, a| {
    let mut r = c.args();
    let op = r.int()?;
    c.pv(&mut r, 0)?;
    let axis = r.usize()?;
    c.pv(&mut r, 1)?;
    c.submit(a.0, "argReduce", Src::Slots(2), &[1], 0.0, move |w, t| reduce::arg_reduce(op, &w[0], axis, &w[1], t))
});

entry!(js_cumulative, "cumulative", |c, a| {
    let mut r = c.args();
    let op = r.int()?;
    c.pv(&mut r, 0)?;
    let axis = r.usize()?;
    let exclusive = r.bool()?;
    let reverse = r.bool()?;
    c.pv(&mut r, 1)?;
    c.submit(a.0, "cumulative", Src::Slots(2), &[1], 0.0, move |w, t| reduce::cumulative(op, &w[0], axis, exclusive, reverse, &w[1], t))
});

entry!(js_matmul, "matmul", |c, a| {
    let mut r = c.args();
    c.pv(&mut r, 0)?;
    c.pv(&mut r, 1)?;
    c.pv(&mut r, 2)?;
    // validated here, so a queued matmul cannot fail on bad arguments later
    let macs = matmul::check(&c.views[0], &c.views[1], None, &c.views[2])?;
    c.submit(a.0, "matmul", Src::Slots(3), &[2], macs, |w, t| matmul::matmul(&w[0], &w[1], None, gemm::Act::Linear, &w[2], t))
});

entry!(js_matmul_fused, "matmulFused", |c, a| {
    let mut r = c.args();
    c.pv(&mut r, 0)?;
    c.pv(&mut r, 1)?;
    let has_bias = r.bool()?;
    if has_bias {
        c.pv(&mut r, 2)?;
    }
    let act = gemm::Act::from_code(r.int()?)?;
    c.pv(&mut r, 3)?;
    let v = &c.views;
    let macs = matmul::check(&v[0], &v[1], has_bias.then_some(&v[2]), &v[3])?;
    let src = Src::Owned(if has_bias { vec![v[0], v[1], v[3], v[2]] } else { vec![v[0], v[1], v[3]] });
    c.submit(a.0, "matmulFused", src, &[2], macs, move |w, t| matmul::matmul(&w[0], &w[1], w.get(3), act, &w[2], t))
});

entry!(js_gather, "gather", |c, a| {
    let mut r = c.args();
    c.pv(&mut r, 0)?;
    c.pv(&mut r, 1)?;
    let axis = r.usize()?;
    c.pv(&mut r, 2)?;
    c.submit(a.0, "gather", Src::Slots(3), &[2], 0.0, move |w, t| index::gather(&w[0], &w[1], axis, &w[2], t))
});

entry!(js_scatter_add, "scatterAdd", |c, a| {
    let mut r = c.args();
    c.pv(&mut r, 0)?;
    c.pv(&mut r, 1)?;
    let axis = r.usize()?;
    c.pv(&mut r, 2)?;
    c.submit(a.0, "scatterAdd", Src::Slots(3), &[2], 0.0, move |w, t| index::scatter_add(&w[0], &w[1], axis, &w[2], t))
});

entry!(js_random_bits, "randomBits", |c, a| {
    let mut r = c.args();
    let k0 = r.int()?;
    let k1 = r.int()?;
    let counter = r.f()?;
    c.pv(&mut r, 0)?;
    c.submit(a.0, "randomBits", Src::Slots(1), &[0], 0.0, move |w, t| random::random_bits([k0 as u32, k1 as u32], counter, &w[0], t))
});

fn window_params(a: &mut Args) -> Res<window::Win> {
    let v = a.usizes(10)?;
    window::Win::new(&v)
}

/// conv2d and its gradients: `[view0, view1, window, out]`.
unsafe fn conv_entry(c: &mut Ctx, env: napi_env, kind: window::Conv) -> Res<()> {
    let mut r = c.args();
    c.pv(&mut r, 0)?;
    c.pv(&mut r, 1)?;
    let p = window_params(&mut r)?;
    c.pv(&mut r, 2)?;
    let (_, _, _, macs) = window::conv_check(kind, &c.views[0], &c.views[1], &c.views[2])?;
    let name = match kind {
        window::Conv::Forward => "conv2d",
        window::Conv::Input => "conv2dBackpropInput",
        window::Conv::Filter => "conv2dBackpropFilter",
    };
    c.submit(env, name, Src::Slots(3), &[2], macs, move |w, t| match kind {
        window::Conv::Forward => window::conv2d(&w[0], &w[1], &p, &w[2], t),
        window::Conv::Input => window::conv2d_backprop_input(&w[0], &w[1], &p, &w[2], t),
        window::Conv::Filter => window::conv2d_backprop_filter(&w[0], &w[1], &p, &w[2], t),
    })
}

entry!(js_conv2d, "conv2d", |c, a| conv_entry(c, a.0, window::Conv::Forward));
entry!(js_conv2d_bp_input, "conv2dBackpropInput", |c, a| conv_entry(c, a.0, window::Conv::Input));
entry!(js_conv2d_bp_filter, "conv2dBackpropFilter", |c, a| conv_entry(c, a.0, window::Conv::Filter));

entry!(js_pool2d, "pool2d", |c, a| {
    let mut r = c.args();
    let max = r.bool()?;
    c.pv(&mut r, 0)?;
    let p = window_params(&mut r)?;
    c.pv(&mut r, 1)?;
    c.submit(a.0, "pool2d", Src::Slots(2), &[1], 0.0, move |w, t| window::pool2d(max, &w[0], &p, &w[1], t))
});

entry!(js_pool2d_backward, "pool2dBackward", |c, a| {
    let mut r = c.args();
    let max = r.bool()?;
    c.pv(&mut r, 0)?;
    c.pv(&mut r, 1)?;
    let p = window_params(&mut r)?;
    c.pv(&mut r, 2)?;
    c.submit(a.0, "pool2dBackward", Src::Slots(3), &[2], 0.0, move |w, t| window::pool2d_backward(max, &w[0], &w[1], &p, &w[2], t))
});

entry!(js_softmax, "softmax", |c, a| {
    let mut r = c.args();
    c.pv(&mut r, 0)?;
    let log = r.bool()?;
    c.pv(&mut r, 1)?;
    c.submit(a.0, "softmax", Src::Slots(2), &[1], 0.0, move |w, t| nn::softmax(&w[0], log, &w[1], t))
});

entry!(js_softmax_xent, "softmaxCrossEntropy", |c, a| {
    let mut r = c.args();
    c.pv(&mut r, 0)?;
    c.pv(&mut r, 1)?;
    c.pv(&mut r, 2)?;
    c.submit(a.0, "softmaxCrossEntropy", Src::Slots(3), &[2], 0.0, |w, t| nn::softmax_cross_entropy(&w[0], &w[1], &w[2], t))
});

entry!(js_layer_norm, "layerNorm", |c, a| {
    let mut r = c.args();
    c.pv(&mut r, 0)?;
    c.pv(&mut r, 1)?;
    c.pv(&mut r, 2)?;
    let eps = r.f()?;
    c.pv(&mut r, 3)?;
    c.submit(a.0, "layerNorm", Src::Slots(4), &[3], 0.0, move |w, t| nn::layer_norm(&w[0], &w[1], &w[2], eps, &w[3], t))
});

entry!(js_optimizer_step, "optimizerStep", |c, a| {
    let mut r = c.args();
    let kind = r.int()?;
    let count = r.usize()?;
    let h = nn::Hyper { lr: r.f()?, step: r.f()?, momentum: r.f()?, beta1: r.f()?, beta2: r.f()?, eps: r.f()?, weight_decay: r.f()? };
    // views flattened as [p, g, state...] per parameter; `counts` holds each state length
    let mut views = Vec::with_capacity(count.min(1 << 16) * 4);
    let mut counts = Vec::with_capacity(count.min(1 << 16));
    let mut outs = Vec::new();
    for _ in 0..count {
        outs.push(views.len());
        views.push(c.view(&mut r)?);
        views.push(c.view(&mut r)?);
        let ns = r.usize()?;
        if ns > 2 {
            return Err(format!("optimizerStep: {ns} state tensors for one parameter (at most 2)"));
        }
        for _ in 0..ns {
            outs.push(views.len());
            views.push(c.view(&mut r)?);
        }
        counts.push(ns);
    }
    c.submit(a.0, "optimizerStep", Src::Owned(views), &outs, 0.0, move |w, t| {
        let mut groups = Vec::with_capacity(counts.len());
        let mut i = 0;
        for &ns in &counts {
            groups.push(nn::Group { p: w[i], g: w[i + 1], state: w[i + 2..i + 2 + ns].to_vec() });
            i += 2 + ns;
        }
        nn::optimizer_step(kind, &groups, &h, t)
    })
});

// ------------------------------------------------------------------------------------
// Registration

unsafe extern "C" fn finalize_fn(_env: napi_env, data: *mut c_void, _hint: *mut c_void) {
    let ctx = data as *mut Ctx;
    if ctx.is_null() {
        return;
    }
    (*ctx).fn_refs -= 1;
    if (*ctx).fn_refs == 0 {
        let mut b = Box::from_raw(ctx);
        // stop the worker before the memory its jobs use goes away
        let _ = catch_unwind(AssertUnwindSafe(|| b.teardown(_env)));
        if !b.scratch_ref.is_null() {
            napi_delete_reference(_env, b.scratch_ref);
        }
        drop(b);
    }
}

type Cb = unsafe extern "C" fn(napi_env, napi_callback_info) -> napi_value;

const FUNCTIONS: &[(&str, Cb)] = &[
    ("alloc\0", js_alloc),
    ("free\0", js_free),
    ("write\0", js_write),
    ("read\0", js_read),
    ("readAsync\0", js_read_async),
    ("flush\0", js_flush),
    ("pending\0", js_pending),
    ("setAsync\0", js_set_async),
    ("fault\0", js_fault),
    ("stats\0", js_stats),
    ("trim\0", js_trim),
    ("setScratch\0", js_set_scratch),
    ("setThreads\0", js_set_threads),
    ("dispose\0", js_dispose),
    ("noop\0", js_noop),
    ("fill\0", js_fill),
    ("copy\0", js_copy),
    ("cast\0", js_cast),
    ("unary\0", js_unary),
    ("binary\0", js_binary),
    ("compare\0", js_compare),
    ("where\0", js_where),
    ("reduce\0", js_reduce),
    ("argReduce\0", js_arg_reduce),
    ("cumulative\0", js_cumulative),
    ("matmul\0", js_matmul),
    ("matmulFused\0", js_matmul_fused),
    ("gather\0", js_gather),
    ("scatterAdd\0", js_scatter_add),
    ("randomBits\0", js_random_bits),
    ("conv2d\0", js_conv2d),
    ("conv2dBackpropInput\0", js_conv2d_bp_input),
    ("conv2dBackpropFilter\0", js_conv2d_bp_filter),
    ("pool2d\0", js_pool2d),
    ("pool2dBackward\0", js_pool2d_backward),
    ("softmax\0", js_softmax),
    ("softmaxCrossEntropy\0", js_softmax_xent),
    ("layerNorm\0", js_layer_norm),
    ("optimizerStep\0", js_optimizer_step),
];

/// `create(scratch: Float64Array, threads: number)`: a new context and its functions.
unsafe extern "C" fn js_create(env: napi_env, info: napi_callback_info) -> napi_value {
    let mut argc = 2usize;
    let mut argv: [napi_value; 2] = [null_mut(); 2];
    napi_get_cb_info(env, info, &mut argc, argv.as_mut_ptr(), null_mut(), null_mut());
    let mut result: napi_value = null_mut();
    let r = catch_unwind(AssertUnwindSafe(|| -> Res<()> {
        let (p, len, ty) = typed_array(env, argv[0], argc)?;
        if ty != TA_FLOAT64 {
            return Err("create: the scratch array must be a Float64Array".into());
        }
        let mut threads = 0f64;
        if argc < 2 || napi_get_value_double(env, argv[1], &mut threads) != NAPI_OK {
            return Err("create: threads must be a number".into());
        }
        let threads = if threads >= 1.0 { (threads as usize).min(256) } else { pool::hardware_threads() };
        let mut sref: napi_ref = null_mut();
        if napi_create_reference(env, argv[0], 1, &mut sref) != NAPI_OK {
            return Err("create: could not reference the scratch array".into());
        }
        let ctx = Box::into_raw(Box::new(Ctx {
            scratch: p as *mut f64,
            scratch_len: len / 8,
            scratch_ref: sref,
            store: Storage::new(),
            views: Box::new([View::EMPTY; 6]),
            threads,
            fn_refs: 0,
            disposed: false,
            async_macs: DEFAULT_ASYNC_MACS,
            queue: Queue::new(),
            worker: None,
            tsfn: null_mut(),
            tsfn_reffed: false,
            waiters: Vec::new(),
            ret: null_mut(),
            err_code: "ERR_TESSERA_NATIVE",
            last_seq: 0,
            gate: Arc::new(std::sync::atomic::AtomicBool::new(true)),
        }));
        let mut obj: napi_value = null_mut();
        napi_create_object(env, &mut obj);
        for (name, cb) in FUNCTIONS {
            let mut f: napi_value = null_mut();
            if napi_create_function(env, name.as_ptr() as *const c_char, NAPI_AUTO_LENGTH, Some(*cb), ctx as *mut c_void, &mut f) != NAPI_OK {
                return Err("create: napi_create_function failed".into());
            }
            if napi_add_finalizer(env, f, ctx as *mut c_void, Some(finalize_fn), null_mut(), null_mut()) == NAPI_OK {
                (*ctx).fn_refs += 1;
            }
            napi_set_named_property(env, obj, name.as_ptr() as *const c_char, f);
        }
        if (*ctx).fn_refs == 0 {
            // no finalizer could be attached: nothing will ever free the context's buffers
            (*ctx).fn_refs = usize::MAX;
        }
        result = obj;
        Ok(())
    }));
    match r {
        Ok(Ok(())) => result,
        Ok(Err(m)) => {
            throw(env, "ERR_TESSERA_NATIVE", &m);
            null_mut()
        }
        Err(p) => {
            throw(env, "ERR_TESSERA_NATIVE_PANIC", &pool::panic_error(&*p));
            null_mut()
        }
    }
}

/// `info()`: a JSON string describing the build and the CPU features in use.
unsafe extern "C" fn js_info(env: napi_env, _info: napi_callback_info) -> napi_value {
    let s = format!(
        "{{\"version\":\"{}\",\"gemm\":\"{}\",\"avx2\":{},\"avx512\":{},\"hardwareThreads\":{},\"arch\":\"{}\"}}",
        env!("CARGO_PKG_VERSION"),
        gemm::kernel_name(),
        cpu::avx2(),
        cpu::avx512(),
        pool::hardware_threads(),
        std::env::consts::ARCH
    );
    let mut v: napi_value = null_mut();
    napi_create_string_utf8(env, s.as_ptr() as *const c_char, s.len(), &mut v);
    v
}

fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // Panics are reported to JS as errors; print them only when asked to.
            if std::env::var_os("TESSERA_NATIVE_DEBUG").is_some() {
                default(info);
            }
        }));
    });
}

#[cfg_attr(not(test), no_mangle)]
pub unsafe extern "C" fn napi_register_module_v1(env: napi_env, exports: napi_value) -> napi_value {
    install_panic_hook();
    for (name, cb) in [("create\0", js_create as Cb), ("info\0", js_info as Cb)] {
        let mut f: napi_value = null_mut();
        napi_create_function(env, name.as_ptr() as *const c_char, NAPI_AUTO_LENGTH, Some(cb), null_mut(), &mut f);
        napi_set_named_property(env, exports, name.as_ptr() as *const c_char, f);
    }
    exports
}
