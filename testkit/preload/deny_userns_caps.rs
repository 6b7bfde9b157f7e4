//! A library testkit preloads (LD_PRELOAD) into an example to imitate
//! Ubuntu's AppArmor restriction of unprivileged user namespaces
//! (`kernel.apparmor_restrict_unprivileged_userns=1`, Ubuntu 23.10+):
//! unshare(CLONE_NEWUSER) succeeds, and then the process holds no
//! capability in the new namespace. AppArmor denies them in its capable()
//! hook; dropping them with capset(2) right after the call makes the
//! kernel's same checks fail, so the example meets the same errnos on the
//! same calls.
//!
//! Built by testkit's build.rs with rustc alone (no crates): it must be a
//! shared object of its own, not a crate the tests link.

use std::ffi::{c_char, c_int, c_void};

/// linux/sched.h.
const CLONE_NEWUSER: c_int = 0x1000_0000;
/// dlfcn.h (glibc): look the symbol up in the objects loaded after this one.
const RTLD_NEXT: *mut c_void = -1isize as *mut c_void;
/// linux/capability.h: 64-bit capability sets, two `CapData`.
const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: c_int,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

// Safety: both are C functions of glibc with these exact signatures
// (dlsym(3), capset(2); struct layouts as <linux/capability.h>).
unsafe extern "C" {
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    fn capset(header: *mut CapHeader, data: *const CapData) -> c_int;
}

/// glibc's unshare(2), then, if that made a user namespace, no capability.
// Safety (no_mangle): this library exists to put its own `unshare` in
// front of glibc's (LD_PRELOAD), with glibc's exact signature; it is
// loaded only into the example processes the tests start.
#[unsafe(no_mangle)]
pub extern "C" fn unshare(flags: c_int) -> c_int {
    // Safety: RTLD_NEXT is a valid handle and the name is NUL-terminated.
    let next = unsafe { dlsym(RTLD_NEXT, c"unshare".as_ptr()) };
    if next.is_null() {
        std::process::abort();
    }
    // Safety: the symbol is glibc's `int unshare(int flags)`.
    let real: extern "C" fn(c_int) -> c_int = unsafe { std::mem::transmute(next) };
    let ret = real(flags);
    if ret == 0 && flags & CLONE_NEWUSER != 0 {
        let mut header = CapHeader {
            version: LINUX_CAPABILITY_VERSION_3,
            pid: 0,
        };
        let none = [CapData {
            effective: 0,
            permitted: 0,
            inheritable: 0,
        }; 2];
        // Safety: header and data are valid for the call (version 3 reads
        // two CapData); pid 0 is the calling thread.
        if unsafe { capset(&mut header, none.as_ptr()) } != 0 {
            std::process::abort();
        }
    }
    ret
}
