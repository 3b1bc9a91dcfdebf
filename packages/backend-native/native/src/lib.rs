//! `@tessera/backend-native`'s addon: Tessera's kernel interface in Rust, with no crates.
//!
//! The module exports `create(scratch, threads)` and `info()`. `create` makes one backend
//! context (its own storage) and returns an object of zero-argument functions bound to it:
//! the JS side writes each call's arguments (op codes, buffer handles, view shapes and
//! strides, scalars) into the shared `scratch` Float64Array and calls the function, so a
//! call costs one Node-API callback and no allocation. Results that are numbers come back in
//! `scratch[0..]`. Every entry point validates its arguments (views are bounds-checked
//! against their buffers), catches panics, and throws a JS `Error` with a `code` instead.

// Numeric kernels index several arrays in lockstep and take many scalar parameters.
#![allow(clippy::missing_safety_doc, clippy::needless_range_loop, clippy::too_many_arguments)]

pub mod cpu;
pub mod elementwise;
pub mod gemm;
pub mod index;
pub mod math;
pub mod matmul;
pub mod napi;
pub mod nn;
pub mod pool;
pub mod random;
pub mod reduce;
pub mod storage;
pub mod unary;
pub mod view;
pub mod window;

use napi::*;
use std::ffi::CString;
use std::os::raw::{c_char, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::null_mut;
use storage::Storage;
use view::{Args, Res, View};

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

/// Runs `body` with panics caught; errors become JS exceptions.
unsafe fn guard(env: napi_env, body: impl FnOnce() -> Res<()>) -> napi_value {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => {}
        Ok(Err(msg)) => throw(env, "ERR_TESSERA_NATIVE", &msg),
        Err(p) => throw(env, "ERR_TESSERA_NATIVE_PANIC", &format!("internal error (Rust panic): {}", pool::panic_text(&*p))),
    }
    null_mut()
}

/// Defines an `extern "C"` entry point bound to a context.
macro_rules! entry {
    ($name:ident, |$ctx:ident, $arg:ident| $body:expr) => {
        unsafe extern "C" fn $name(env: napi_env, info: napi_callback_info) -> napi_value {
            let (ctxp, argv0, argc) = cb_info(env, info);
            guard(env, || {
                if ctxp.is_null() {
                    return Err("missing context".into());
                }
                let $ctx: &mut Ctx = &mut *ctxp;
                if $ctx.disposed {
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

entry!(js_alloc, |c, _a| {
    let bytes = c.args().usize()?;
    let id = c.store.alloc(bytes)?;
    c.out(0, id as f64);
    Ok(())
});

entry!(js_free, |c, _a| {
    let id = c.args().usize()?;
    c.store.free(id.min(u32::MAX as usize) as u32)
});

/// Bounds-checked byte range of a live buffer: `[handle, byteOffset]` and a length.
fn buf_range(c: &Ctx, len: usize) -> Res<*mut u8> {
    let mut a = c.args();
    let id = a.usize()?;
    let off = a.usize()?;
    let (p, bytes) = c.store.get(id.min(u32::MAX as usize) as u32)?;
    if off.checked_add(len).is_none_or(|e| e > bytes) {
        return Err(format!("access of {len} bytes at byte {off} is outside a buffer of {bytes} bytes"));
    }
    Ok(if len == 0 { p } else { unsafe { p.add(off) } })
}

entry!(js_write, |c, a| {
    let (src, len, _) = typed_array(a.0, a.1, a.2)?;
    let dst = buf_range(c, len)?;
    if len > 0 {
        std::ptr::copy_nonoverlapping(src, dst, len);
    }
    Ok(())
});

entry!(js_read, |c, a| {
    let (dst, len, _) = typed_array(a.0, a.1, a.2)?;
    let src = buf_range(c, len)?;
    if len > 0 {
        std::ptr::copy_nonoverlapping(src, dst, len);
    }
    Ok(())
});

entry!(js_stats, |c, _a| {
    let (l, b, p) = (c.store.live, c.store.live_bytes, c.store.pooled_bytes);
    c.out(0, l as f64);
    c.out(1, b as f64);
    c.out(2, p as f64);
    Ok(())
});

entry!(js_trim, |c, _a| {
    c.store.trim();
    Ok(())
});

entry!(js_set_scratch, |c, a| {
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

entry!(js_set_threads, |c, _a| {
    c.threads = c.args().usize()?.clamp(1, 256);
    Ok(())
});

entry!(js_dispose, |c, _a| {
    c.store.clear();
    c.disposed = true;
    Ok(())
});

entry!(js_noop, |_c, _a| Ok(()));

// ------------------------------------------------------------------------------------
// Kernels

entry!(js_fill, |c, _a| {
    let mut a = c.args();
    c.pv(&mut a, 0)?;
    let v = a.f()?;
    elementwise::fill(&c.views[0], v, c.threads)
});

entry!(js_copy, |c, _a| {
    let mut a = c.args();
    c.pv(&mut a, 0)?;
    c.pv(&mut a, 1)?;
    elementwise::copy(&c.views[0], &c.views[1], c.threads)
});

entry!(js_cast, |c, _a| {
    let mut a = c.args();
    c.pv(&mut a, 0)?;
    c.pv(&mut a, 1)?;
    elementwise::cast(&c.views[0], &c.views[1], c.threads)
});

entry!(js_unary, |c, _a| {
    let mut a = c.args();
    let op = a.int()?;
    c.pv(&mut a, 0)?;
    c.pv(&mut a, 1)?;
    unary::unary(op, &c.views[0], &c.views[1], c.threads)
});

entry!(js_binary, |c, _a| {
    let mut a = c.args();
    let op = a.int()?;
    c.pv(&mut a, 0)?;
    c.pv(&mut a, 1)?;
    c.pv(&mut a, 2)?;
    elementwise::binary(op, &c.views[0], &c.views[1], &c.views[2], c.threads)
});

entry!(js_compare, |c, _a| {
    let mut a = c.args();
    let op = a.int()?;
    c.pv(&mut a, 0)?;
    c.pv(&mut a, 1)?;
    c.pv(&mut a, 2)?;
    elementwise::compare(op, &c.views[0], &c.views[1], &c.views[2], c.threads)
});

entry!(js_where, |c, _a| {
    let mut a = c.args();
    c.pv(&mut a, 0)?;
    c.pv(&mut a, 1)?;
    c.pv(&mut a, 2)?;
    c.pv(&mut a, 3)?;
    elementwise::where_(&c.views[0], &c.views[1], &c.views[2], &c.views[3], c.threads)
});

entry!(js_reduce, |c, _a| {
    let mut a = c.args();
    let op = a.int()?;
    c.pv(&mut a, 0)?;
    let n = a.usize()?;
    let axes = a.usizes(n.min(view::MAXR + 1))?;
    c.pv(&mut a, 1)?;
    reduce::reduce(op, &c.views[0], &axes, &c.views[1], c.threads)
});

entry!(js_arg_reduce, |c, _a| {
    let mut a = c.args();
    let op = a.int()?;
    c.pv(&mut a, 0)?;
    let axis = a.usize()?;
    c.pv(&mut a, 1)?;
    reduce::arg_reduce(op, &c.views[0], axis, &c.views[1], c.threads)
});

entry!(js_cumulative, |c, _a| {
    let mut a = c.args();
    let op = a.int()?;
    c.pv(&mut a, 0)?;
    let axis = a.usize()?;
    let exclusive = a.bool()?;
    let reverse = a.bool()?;
    c.pv(&mut a, 1)?;
    reduce::cumulative(op, &c.views[0], axis, exclusive, reverse, &c.views[1], c.threads)
});

entry!(js_matmul, |c, _a| {
    let mut a = c.args();
    c.pv(&mut a, 0)?;
    c.pv(&mut a, 1)?;
    c.pv(&mut a, 2)?;
    matmul::matmul(&c.views[0], &c.views[1], None, gemm::Act::Linear, &c.views[2], c.threads)
});

entry!(js_matmul_fused, |c, _a| {
    let mut a = c.args();
    c.pv(&mut a, 0)?;
    c.pv(&mut a, 1)?;
    let has_bias = a.bool()?;
    if has_bias {
        c.pv(&mut a, 2)?;
    }
    let act = gemm::Act::from_code(a.int()?)?;
    c.pv(&mut a, 3)?;
    let v = &c.views;
    matmul::matmul(&v[0], &v[1], has_bias.then_some(&v[2]), act, &v[3], c.threads)
});

entry!(js_gather, |c, _a| {
    let mut a = c.args();
    c.pv(&mut a, 0)?;
    c.pv(&mut a, 1)?;
    let axis = a.usize()?;
    c.pv(&mut a, 2)?;
    index::gather(&c.views[0], &c.views[1], axis, &c.views[2], c.threads)
});

entry!(js_scatter_add, |c, _a| {
    let mut a = c.args();
    c.pv(&mut a, 0)?;
    c.pv(&mut a, 1)?;
    let axis = a.usize()?;
    c.pv(&mut a, 2)?;
    index::scatter_add(&c.views[0], &c.views[1], axis, &c.views[2], c.threads)
});

entry!(js_random_bits, |c, _a| {
    let mut a = c.args();
    let k0 = a.int()?;
    let k1 = a.int()?;
    let counter = a.f()?;
    c.pv(&mut a, 0)?;
    random::random_bits([k0 as u32, k1 as u32], counter, &c.views[0], c.threads)
});

fn window_params(a: &mut Args) -> Res<window::Win> {
    let v = a.usizes(10)?;
    window::Win::new(&v)
}

entry!(js_conv2d, |c, _a| {
    let mut a = c.args();
    c.pv(&mut a, 0)?;
    c.pv(&mut a, 1)?;
    let p = window_params(&mut a)?;
    c.pv(&mut a, 2)?;
    window::conv2d(&c.views[0], &c.views[1], &p, &c.views[2], c.threads)
});

entry!(js_conv2d_bp_input, |c, _a| {
    let mut a = c.args();
    c.pv(&mut a, 0)?;
    c.pv(&mut a, 1)?;
    let p = window_params(&mut a)?;
    c.pv(&mut a, 2)?;
    window::conv2d_backprop_input(&c.views[0], &c.views[1], &p, &c.views[2], c.threads)
});

entry!(js_conv2d_bp_filter, |c, _a| {
    let mut a = c.args();
    c.pv(&mut a, 0)?;
    c.pv(&mut a, 1)?;
    let p = window_params(&mut a)?;
    c.pv(&mut a, 2)?;
    window::conv2d_backprop_filter(&c.views[0], &c.views[1], &p, &c.views[2], c.threads)
});

entry!(js_pool2d, |c, _a| {
    let mut a = c.args();
    let max = a.bool()?;
    c.pv(&mut a, 0)?;
    let p = window_params(&mut a)?;
    c.pv(&mut a, 1)?;
    window::pool2d(max, &c.views[0], &p, &c.views[1], c.threads)
});

entry!(js_pool2d_backward, |c, _a| {
    let mut a = c.args();
    let max = a.bool()?;
    c.pv(&mut a, 0)?;
    c.pv(&mut a, 1)?;
    let p = window_params(&mut a)?;
    c.pv(&mut a, 2)?;
    window::pool2d_backward(max, &c.views[0], &c.views[1], &p, &c.views[2], c.threads)
});

entry!(js_softmax, |c, _a| {
    let mut a = c.args();
    c.pv(&mut a, 0)?;
    let log = a.bool()?;
    c.pv(&mut a, 1)?;
    nn::softmax(&c.views[0], log, &c.views[1], c.threads)
});

entry!(js_softmax_xent, |c, _a| {
    let mut a = c.args();
    c.pv(&mut a, 0)?;
    c.pv(&mut a, 1)?;
    c.pv(&mut a, 2)?;
    nn::softmax_cross_entropy(&c.views[0], &c.views[1], &c.views[2], c.threads)
});

entry!(js_layer_norm, |c, _a| {
    let mut a = c.args();
    c.pv(&mut a, 0)?;
    c.pv(&mut a, 1)?;
    c.pv(&mut a, 2)?;
    let eps = a.f()?;
    c.pv(&mut a, 3)?;
    nn::layer_norm(&c.views[0], &c.views[1], &c.views[2], eps, &c.views[3], c.threads)
});

entry!(js_optimizer_step, |c, _a| {
    let mut a = c.args();
    let kind = a.int()?;
    let count = a.usize()?;
    let h = nn::Hyper { lr: a.f()?, step: a.f()?, momentum: a.f()?, beta1: a.f()?, beta2: a.f()?, eps: a.f()?, weight_decay: a.f()? };
    let mut groups = Vec::with_capacity(count.min(1 << 16));
    for _ in 0..count {
        let p = c.view(&mut a)?;
        let g = c.view(&mut a)?;
        let ns = a.usize()?;
        if ns > 2 {
            return Err(format!("optimizerStep: {ns} state tensors for one parameter (at most 2)"));
        }
        let mut st = Vec::with_capacity(ns);
        for _ in 0..ns {
            st.push(c.view(&mut a)?);
        }
        groups.push(nn::Group { p, g, state: st });
    }
    nn::optimizer_step(kind, &groups, &h, c.threads)
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
        let b = Box::from_raw(ctx);
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
            throw(env, "ERR_TESSERA_NATIVE_PANIC", &pool::panic_text(&*p));
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
