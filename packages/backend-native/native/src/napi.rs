//! Hand-written declarations of the Node-API functions this addon uses (Node-API version
//! ≤ 5, all present in Node 20). Nothing links against Node: the symbols resolve at load
//! time from the running `node` binary.
#![allow(non_camel_case_types, dead_code)]

use std::os::raw::{c_char, c_void};

pub type napi_env = *mut c_void;
pub type napi_value = *mut c_void;
pub type napi_ref = *mut c_void;
pub type napi_callback_info = *mut c_void;
pub type napi_status = i32;
pub type napi_callback = Option<unsafe extern "C" fn(napi_env, napi_callback_info) -> napi_value>;
pub type napi_finalize = Option<unsafe extern "C" fn(napi_env, *mut c_void, *mut c_void)>;
pub type napi_deferred = *mut c_void;
pub type napi_threadsafe_function = *mut c_void;
/// Runs on the JS thread for each `napi_call_threadsafe_function` (env is null while the
/// function is being torn down).
pub type napi_threadsafe_function_call_js = Option<unsafe extern "C" fn(napi_env, napi_value, *mut c_void, *mut c_void)>;

/// `napi_threadsafe_function_call_mode` / `_release_mode` values.
pub const NAPI_TSFN_NONBLOCKING: i32 = 0;
pub const NAPI_TSFN_ABORT: i32 = 1;

pub const NAPI_OK: napi_status = 0;
pub const NAPI_AUTO_LENGTH: usize = usize::MAX;

/// `napi_typedarray_type` values.
pub const TA_INT8: i32 = 0;
pub const TA_UINT8: i32 = 1;
pub const TA_UINT8_CLAMPED: i32 = 2;
pub const TA_INT32: i32 = 5;
pub const TA_UINT32: i32 = 6;
pub const TA_FLOAT32: i32 = 7;
pub const TA_FLOAT64: i32 = 8;

#[cfg(not(test))]
extern "C" {
    pub fn napi_create_function(
        env: napi_env,
        name: *const c_char,
        len: usize,
        cb: napi_callback,
        data: *mut c_void,
        result: *mut napi_value,
    ) -> napi_status;
    pub fn napi_get_cb_info(
        env: napi_env,
        info: napi_callback_info,
        argc: *mut usize,
        argv: *mut napi_value,
        this: *mut napi_value,
        data: *mut *mut c_void,
    ) -> napi_status;
    pub fn napi_get_typedarray_info(
        env: napi_env,
        ta: napi_value,
        ty: *mut i32,
        len: *mut usize,
        data: *mut *mut c_void,
        ab: *mut napi_value,
        byte_offset: *mut usize,
    ) -> napi_status;
    pub fn napi_is_typedarray(env: napi_env, v: napi_value, result: *mut bool) -> napi_status;
    pub fn napi_create_object(env: napi_env, result: *mut napi_value) -> napi_status;
    pub fn napi_set_named_property(env: napi_env, obj: napi_value, name: *const c_char, v: napi_value) -> napi_status;
    pub fn napi_get_undefined(env: napi_env, result: *mut napi_value) -> napi_status;
    pub fn napi_get_value_double(env: napi_env, v: napi_value, result: *mut f64) -> napi_status;
    pub fn napi_create_double(env: napi_env, v: f64, result: *mut napi_value) -> napi_status;
    pub fn napi_create_string_utf8(env: napi_env, s: *const c_char, len: usize, result: *mut napi_value) -> napi_status;
    pub fn napi_throw_error(env: napi_env, code: *const c_char, msg: *const c_char) -> napi_status;
    pub fn napi_is_exception_pending(env: napi_env, result: *mut bool) -> napi_status;
    pub fn napi_create_reference(env: napi_env, v: napi_value, initial: u32, result: *mut napi_ref) -> napi_status;
    pub fn napi_delete_reference(env: napi_env, r: napi_ref) -> napi_status;
    pub fn napi_add_finalizer(
        env: napi_env,
        obj: napi_value,
        data: *mut c_void,
        cb: napi_finalize,
        hint: *mut c_void,
        result: *mut napi_ref,
    ) -> napi_status;
    pub fn napi_get_reference_value(env: napi_env, r: napi_ref, result: *mut napi_value) -> napi_status;
    pub fn napi_create_promise(env: napi_env, deferred: *mut napi_deferred, promise: *mut napi_value) -> napi_status;
    pub fn napi_resolve_deferred(env: napi_env, deferred: napi_deferred, resolution: napi_value) -> napi_status;
    pub fn napi_reject_deferred(env: napi_env, deferred: napi_deferred, rejection: napi_value) -> napi_status;
    pub fn napi_create_error(env: napi_env, code: napi_value, msg: napi_value, result: *mut napi_value) -> napi_status;
    pub fn napi_create_threadsafe_function(
        env: napi_env,
        func: napi_value,
        async_resource: napi_value,
        async_resource_name: napi_value,
        max_queue_size: usize,
        initial_thread_count: usize,
        thread_finalize_data: *mut c_void,
        thread_finalize_cb: napi_finalize,
        context: *mut c_void,
        call_js_cb: napi_threadsafe_function_call_js,
        result: *mut napi_threadsafe_function,
    ) -> napi_status;
    pub fn napi_call_threadsafe_function(f: napi_threadsafe_function, data: *mut c_void, mode: i32) -> napi_status;
    pub fn napi_release_threadsafe_function(f: napi_threadsafe_function, mode: i32) -> napi_status;
    pub fn napi_ref_threadsafe_function(env: napi_env, f: napi_threadsafe_function) -> napi_status;
    pub fn napi_unref_threadsafe_function(env: napi_env, f: napi_threadsafe_function) -> napi_status;
}

/// Stand-ins so `cargo test` links without Node (the unit tests never call them).
#[cfg(test)]
#[allow(clippy::items_after_test_module)]
mod stubs {
    use super::*;
    macro_rules! stub {
        ($($name:ident($($a:ident: $t:ty),*);)*) => {$(
            #[allow(unused_variables)]
            pub unsafe fn $name($($a: $t),*) -> napi_status { 1 }
        )*};
    }
    stub! {
        napi_create_function(env: napi_env, name: *const c_char, len: usize, cb: napi_callback, data: *mut c_void, result: *mut napi_value);
        napi_get_cb_info(env: napi_env, info: napi_callback_info, argc: *mut usize, argv: *mut napi_value, this: *mut napi_value, data: *mut *mut c_void);
        napi_get_typedarray_info(env: napi_env, ta: napi_value, ty: *mut i32, len: *mut usize, data: *mut *mut c_void, ab: *mut napi_value, byte_offset: *mut usize);
        napi_is_typedarray(env: napi_env, v: napi_value, result: *mut bool);
        napi_create_object(env: napi_env, result: *mut napi_value);
        napi_set_named_property(env: napi_env, obj: napi_value, name: *const c_char, v: napi_value);
        napi_get_undefined(env: napi_env, result: *mut napi_value);
        napi_get_value_double(env: napi_env, v: napi_value, result: *mut f64);
        napi_create_double(env: napi_env, v: f64, result: *mut napi_value);
        napi_create_string_utf8(env: napi_env, s: *const c_char, len: usize, result: *mut napi_value);
        napi_throw_error(env: napi_env, code: *const c_char, msg: *const c_char);
        napi_is_exception_pending(env: napi_env, result: *mut bool);
        napi_create_reference(env: napi_env, v: napi_value, initial: u32, result: *mut napi_ref);
        napi_delete_reference(env: napi_env, r: napi_ref);
        napi_add_finalizer(env: napi_env, obj: napi_value, data: *mut c_void, cb: napi_finalize, hint: *mut c_void, result: *mut napi_ref);
        napi_get_reference_value(env: napi_env, r: napi_ref, result: *mut napi_value);
        napi_create_promise(env: napi_env, deferred: *mut napi_deferred, promise: *mut napi_value);
        napi_resolve_deferred(env: napi_env, deferred: napi_deferred, resolution: napi_value);
        napi_reject_deferred(env: napi_env, deferred: napi_deferred, rejection: napi_value);
        napi_create_error(env: napi_env, code: napi_value, msg: napi_value, result: *mut napi_value);
        napi_create_threadsafe_function(env: napi_env, func: napi_value, async_resource: napi_value, async_resource_name: napi_value, max_queue_size: usize, initial_thread_count: usize, thread_finalize_data: *mut c_void, thread_finalize_cb: napi_finalize, context: *mut c_void, call_js_cb: napi_threadsafe_function_call_js, result: *mut napi_threadsafe_function);
        napi_call_threadsafe_function(f: napi_threadsafe_function, data: *mut c_void, mode: i32);
        napi_release_threadsafe_function(f: napi_threadsafe_function, mode: i32);
        napi_ref_threadsafe_function(env: napi_env, f: napi_threadsafe_function);
        napi_unref_threadsafe_function(env: napi_env, f: napi_threadsafe_function);
    }
}
#[cfg(test)]
pub use stubs::*;
