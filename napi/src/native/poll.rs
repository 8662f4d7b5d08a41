//! libuv poll handles: the native transport watches its sockets' file descriptors on the calling
//! environment's loop, so sockets are serviced on the JS thread itself (no thread hop between the
//! kernel and JS), and an active poll handle keeps the process alive exactly like a Node socket.

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::os::raw::{c_char, c_int, c_void};

use crate::uv::api::{uv_close, uv_ref, uv_unref};
use crate::uv::{layout_of, UvLoop};

/// Opaque `uv_poll_t` (allocated with `uv_handle_size`).
#[repr(C)]
pub struct UvPoll {
    _private: [u8; 0],
}

pub const UV_READABLE: c_int = 1;
pub const UV_WRITABLE: c_int = 2;
const UV_POLL: c_int = 8; // uv_handle_type::UV_POLL

pub type PollCb = unsafe extern "C" fn(handle: *mut UvPoll, status: c_int, events: c_int);

extern "C" {
    fn uv_poll_init(lp: *mut UvLoop, handle: *mut UvPoll, fd: c_int) -> c_int;
    fn uv_poll_start(handle: *mut UvPoll, events: c_int, cb: PollCb) -> c_int;
    fn uv_err_name(err: c_int) -> *const c_char;
}

fn layout() -> Layout {
    layout_of(UV_POLL)
}

/// A poll handle watching one file descriptor; `data` carries the binding's handle id.
pub struct Poll {
    handle: *mut UvPoll,
    events: c_int,
}

impl Poll {
    /// Registers `fd` with `lp`. Nothing is watched until [`set`](Self::set).
    pub fn new(lp: *mut UvLoop, fd: c_int, id: u32) -> Result<Poll, c_int> {
        // SAFETY: the layout has non-zero size; the handle is initialised by uv_poll_init before use.
        unsafe {
            let handle = alloc_zeroed(layout()) as *mut UvPoll;
            assert!(!handle.is_null(), "out of memory");
            let rc = uv_poll_init(lp, handle, fd);
            if rc != 0 {
                dealloc(handle as *mut u8, layout());
                return Err(rc);
            }
            // `void* data` is the first member of every uv handle.
            *(handle as *mut *mut c_void) = id as usize as *mut c_void;
            Ok(Poll { handle, events: 0 })
        }
    }

    /// Watches for `events` (a mix of `UV_READABLE`/`UV_WRITABLE`); no-op when unchanged.
    pub fn set(&mut self, events: c_int, cb: PollCb) -> Result<(), c_int> {
        if events == self.events {
            return Ok(());
        }
        // SAFETY: the handle is initialised and not closed (close consumes self).
        let rc = unsafe { uv_poll_start(self.handle, events, cb) };
        if rc == 0 {
            self.events = events;
            Ok(())
        } else {
            Err(rc)
        }
    }

    /// `uv_ref`/`uv_unref`: whether this handle, while active, keeps the event loop (the process)
    /// alive, like a Node socket's `ref()`/`unref()`. Survives stopping and restarting the poll.
    pub fn set_ref(&mut self, keep_alive: bool) {
        // SAFETY: the handle is initialised and not closed.
        unsafe {
            if keep_alive {
                uv_ref(self.handle.cast())
            } else {
                uv_unref(self.handle.cast())
            }
        }
    }

    /// Stops watching and frees the handle once libuv is done with it. The descriptor is no longer
    /// watched when this returns, so the caller may close it right away.
    pub fn close(self) {
        // SAFETY: closing an initialised handle once; memory is freed in the close callback.
        unsafe { uv_close(self.handle.cast(), Some(free_handle)) };
    }
}

/// The id stored in a handle by [`Poll::new`].
pub fn handle_id(handle: *mut UvPoll) -> u32 {
    // SAFETY: every handle passed to our callbacks was set up by Poll::new.
    unsafe { *(handle as *mut *mut c_void) as usize as u32 }
}

unsafe extern "C" fn free_handle(handle: *mut c_void) {
    dealloc(handle as *mut u8, layout());
}

/// libuv's name for a (negative) error number, e.g. `ECONNREFUSED`.
pub fn err_name(code: c_int) -> String {
    // SAFETY: uv_err_name returns a static string (or a leaked one for unknown codes).
    unsafe {
        let p = uv_err_name(code);
        if p.is_null() {
            return format!("E{}", -code);
        }
        std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}
