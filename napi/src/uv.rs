//! The libuv calls every platform's binding needs: one timer (node-ipc 14's remainder-age rule).
//! Node exports libuv's symbols to addons, and `napi_get_uv_event_loop` hands out the loop of the
//! calling environment (the main thread or a worker), so handles made here run on the JS thread.
//! The native transport's poll handles (Unix) are in `native::poll`.
//!
//! How the symbols are found differs by platform (see `api`): on Unix the dynamic linker resolves
//! them against the host process when the addon loads; on Windows napi-rs links no `node.lib`
//! import library, so they are looked up in the host process at first use, the way napi-rs looks
//! up Node-API's own functions there.

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::os::raw::{c_int, c_void};

/// Opaque `uv_loop_t`.
pub type UvLoop = napi::sys::uv_loop_s;

/// Opaque `uv_timer_t` (allocated with `uv_handle_size`).
#[repr(C)]
pub struct UvTimer {
    _private: [u8; 0],
}

const UV_TIMER: c_int = 13; // uv_handle_type::UV_TIMER

pub type TimerCb = unsafe extern "C" fn(handle: *mut UvTimer);
/// `uv_close_cb`; every handle is a `uv_handle_t*` underneath.
pub type CloseCb = unsafe extern "C" fn(handle: *mut c_void);

/// libuv's functions, linked (Unix).
#[cfg(unix)]
pub(crate) mod api {
    use super::{CloseCb, TimerCb, UvLoop, UvTimer};
    use std::os::raw::{c_int, c_void};

    extern "C" {
        pub fn uv_handle_size(kind: c_int) -> usize;
        pub fn uv_timer_init(lp: *mut UvLoop, handle: *mut UvTimer) -> c_int;
        pub fn uv_timer_start(handle: *mut UvTimer, cb: TimerCb, timeout: u64, repeat: u64) -> c_int;
        pub fn uv_timer_stop(handle: *mut UvTimer) -> c_int;
        pub fn uv_close(handle: *mut c_void, cb: Option<CloseCb>);
        pub fn uv_ref(handle: *mut c_void);
        pub fn uv_unref(handle: *mut c_void);
    }

    /// Always: the dynamic linker has resolved them.
    pub fn available() -> bool {
        true
    }
}

/// libuv's functions, looked up in the host process at first use (Windows).
#[cfg(windows)]
pub(crate) mod api {
    use super::{CloseCb, TimerCb, UvLoop, UvTimer};
    use libloading::os::windows::Library;
    use std::os::raw::{c_int, c_void};
    use std::sync::OnceLock;

    struct Fns {
        handle_size: unsafe extern "C" fn(c_int) -> usize,
        timer_init: unsafe extern "C" fn(*mut UvLoop, *mut UvTimer) -> c_int,
        timer_start: unsafe extern "C" fn(*mut UvTimer, TimerCb, u64, u64) -> c_int,
        timer_stop: unsafe extern "C" fn(*mut UvTimer) -> c_int,
        close: unsafe extern "C" fn(*mut c_void, Option<CloseCb>),
        unref: unsafe extern "C" fn(*mut c_void),
        /// Keeps the module the functions live in loaded.
        _host: Library,
    }

    /// Where Node's exports are: the executable (node.exe, Electron), else a `libnode`/`node` DLL
    /// already loaded (embedders) — the places napi-rs searches for Node-API.
    fn fns() -> Option<&'static Fns> {
        static FNS: OnceLock<Option<Fns>> = OnceLock::new();
        FNS.get_or_init(|| {
            let hosts =
                [Library::this(), Library::open_already_loaded("libnode"), Library::open_already_loaded("node")];
            // SAFETY: the symbols are libuv's exports, with the signatures declared in `Fns`.
            hosts.into_iter().flatten().find_map(|host| unsafe { load(host) })
        })
        .as_ref()
    }

    unsafe fn load(host: Library) -> Option<Fns> {
        // (each lookup is its own statement: the symbols borrow `host` until it moves below)
        let handle_size = *host.get(b"uv_handle_size\0").ok()?;
        let timer_init = *host.get(b"uv_timer_init\0").ok()?;
        let timer_start = *host.get(b"uv_timer_start\0").ok()?;
        let timer_stop = *host.get(b"uv_timer_stop\0").ok()?;
        let close = *host.get(b"uv_close\0").ok()?;
        let unref = *host.get(b"uv_unref\0").ok()?;
        Some(Fns { handle_size, timer_init, timer_start, timer_stop, close, unref, _host: host })
    }

    fn f() -> &'static Fns {
        fns().expect("libuv's functions: checked by available() before the first handle")
    }

    /// Whether the host exports libuv (checked before a timer is made).
    pub fn available() -> bool {
        fns().is_some()
    }

    pub unsafe fn uv_handle_size(kind: c_int) -> usize {
        (f().handle_size)(kind)
    }
    pub unsafe fn uv_timer_init(lp: *mut UvLoop, handle: *mut UvTimer) -> c_int {
        (f().timer_init)(lp, handle)
    }
    pub unsafe fn uv_timer_start(handle: *mut UvTimer, cb: TimerCb, timeout: u64, repeat: u64) -> c_int {
        (f().timer_start)(handle, cb, timeout, repeat)
    }
    pub unsafe fn uv_timer_stop(handle: *mut UvTimer) -> c_int {
        (f().timer_stop)(handle)
    }
    pub unsafe fn uv_close(handle: *mut c_void, cb: Option<CloseCb>) {
        (f().close)(handle, cb)
    }
    pub unsafe fn uv_unref(handle: *mut c_void) {
        (f().unref)(handle)
    }
}

use api::{uv_close, uv_handle_size, uv_timer_init, uv_timer_start, uv_timer_stop, uv_unref};

const ALIGN: usize = 16;

/// The allocation of a handle of libuv type `kind`.
pub(crate) fn layout_of(kind: c_int) -> Layout {
    // SAFETY: uv_handle_size is a pure lookup.
    let size = unsafe { uv_handle_size(kind) };
    Layout::from_size_align(size.max(8), ALIGN).expect("uv handle layout")
}

/// A one-shot timer that never keeps the event loop alive (node-ipc 14 unrefs its
/// incomplete-message timers too).
pub struct Timer {
    handle: *mut UvTimer,
}

impl Timer {
    /// A stopped, unref'd timer on `lp`. Fails with libuv's error code (or `-1` where the host
    /// exports no libuv).
    pub fn new(lp: *mut UvLoop) -> Result<Timer, c_int> {
        if !api::available() {
            return Err(-1);
        }
        // SAFETY: the layout has non-zero size; the handle is initialised by uv_timer_init before use.
        unsafe {
            let handle = alloc_zeroed(layout_of(UV_TIMER)) as *mut UvTimer;
            assert!(!handle.is_null(), "out of memory");
            let rc = uv_timer_init(lp, handle);
            if rc != 0 {
                dealloc(handle as *mut u8, layout_of(UV_TIMER));
                return Err(rc);
            }
            uv_unref(handle.cast());
            Ok(Timer { handle })
        }
    }

    /// Fires `cb` once, `ms` milliseconds from the loop's current time (restarting a running timer).
    pub fn start(&mut self, ms: u64, cb: TimerCb) -> Result<(), c_int> {
        // SAFETY: the handle is initialised and not closed (close consumes self).
        let rc = unsafe { uv_timer_start(self.handle, cb, ms, 0) };
        if rc == 0 {
            Ok(())
        } else {
            Err(rc)
        }
    }

    /// Stops a running timer (no-op otherwise).
    pub fn stop(&mut self) {
        // SAFETY: as above.
        unsafe { uv_timer_stop(self.handle) };
    }

    /// Stops the timer and frees it once libuv is done with it.
    pub fn close(self) {
        // SAFETY: closing an initialised handle once; memory is freed in the close callback.
        unsafe { uv_close(self.handle.cast(), Some(free_timer)) };
    }
}

unsafe extern "C" fn free_timer(handle: *mut c_void) {
    dealloc(handle as *mut u8, layout_of(UV_TIMER));
}
