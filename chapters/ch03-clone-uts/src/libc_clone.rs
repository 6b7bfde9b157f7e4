//! The same clone(2) through raw `libc::clone`, the way the slides' C program
//! calls it: an `extern "C"` function for the child, the address of the top
//! of a stack the program allocated, flags with the exit signal or-ed in, and
//! one `void *` argument. Everything nix did for us is spelled out here.
//!
//! Read: clone(2) ("The glibc wrapper"), std::alloc.

use std::alloc::{self, Layout};
use std::ffi::{c_int, c_void};
use std::io::Write;
use std::ptr::NonNull;

use nix::errno::Errno;
use nix::unistd::Pid;
use workbook::ns::NsId;
use workbook::process::Child;
use workbook::say;
use workbook::{Error, Result};

use crate::STACK_SIZE;

/// The alignment of the stack pointer at a call that the x86-64 and aarch64
/// ABIs require: 16 bytes.
const STACK_ALIGN: usize = 16;
const _: () = assert!(STACK_SIZE % STACK_ALIGN == 0);

/// What the child needs from its parent, passed through clone's `arg`.
#[derive(Debug)]
struct ChildArgs<'a> {
    hostname: &'a str,
    parent_uts: NsId,
}

// ANCHOR: clone_libc
/// clone(2) through libc. Returns once the child has exited with status 0.
pub(crate) fn clone_with_libc(hostname: &str, parent_uts: NsId) -> Result<Pid> {
    let me = std::process::id();
    // The slides' `malloc(STACK_SIZE)`, checked as they do; freed when
    // `stack` is dropped, on every path.
    let stack = Stack::allocate(STACK_SIZE)?;
    say!(
        "process {me} (parent) calls clone(CLONE_NEWUTS | SIGCHLD) through libc::clone, \
         with a {} KiB stack it allocated",
        STACK_SIZE / 1024
    );
    // The child starts with a copy of this process's memory: lines still
    // buffered would be printed twice.
    let _ = std::io::stdout().flush();
    let mut child_args = ChildArgs {
        hostname,
        parent_uts,
    };
    // The low byte of the flags is the exit signal: SIGCHLD, so that
    // waitpid(2) sees an ordinary child (without it: __WALL, or ECHILD).
    let flags = libc::CLONE_NEWUTS | libc::SIGCHLD;
    // Safety: `child` is an `extern "C" fn(*mut c_void) -> c_int` that never
    // unwinds; `stack.top()` is the 16-byte aligned end of a live block of
    // STACK_SIZE bytes that nothing else uses; `arg` points to `child_args`,
    // alive for the whole call. The child is a copy of this single-threaded
    // process (no CLONE_VM, CLONE_THREAD...), so it holds no lock that a
    // missing thread would never release, and it ends when `child` returns.
    let ret = unsafe {
        libc::clone(
            child,
            stack.top(),
            flags,
            (&raw mut child_args).cast::<c_void>(),
        )
    };
    // The slides' C never checks: clone returns -1 and sets errno on failure.
    if ret == -1 {
        return Err(Error::sys(
            "libc::clone(child, stack_top, CLONE_NEWUTS | SIGCHLD, &args)",
            Errno::last(),
        ));
    }
    let pid = Pid::from_raw(ret);
    // Adopted at once: on every path from here, the child is reaped. The
    // slides' C never waits for its child.
    let child = Child::from_pid(pid);
    child.wait()?;
    // Only now is the stack freed. Without CLONE_VM the child ran on its own
    // copy, so earlier would have been harmless; with CLONE_VM it would not.
    drop(stack);
    Ok(pid)
}

/// The child's entry point: glibc's clone wrapper calls it in the new
/// process, on the new stack, and ends the process with the exit system call
/// and this function's result as the status. Rust aborts rather than unwind
/// out of an `extern "C"` function; `child_main` catches any panic before
/// that (status 101).
extern "C" fn child(arg: *mut c_void) -> c_int {
    // Safety: `arg` is the address of the parent's `child_args`, given to
    // clone above. The child runs on a copy of the parent's memory taken at
    // the clone, while `clone_with_libc` was running, so at that address
    // lies an initialised `ChildArgs`, which nothing else in this process
    // touches, and the `hostname` it borrows.
    let args = unsafe { &*arg.cast::<ChildArgs<'_>>() };
    crate::child_main(args.hostname, args.parent_uts)
}
// ANCHOR_END: clone_libc

// ANCHOR: stack
/// A block for the child's stack, from std::alloc, 16-byte aligned; freed
/// when dropped.
#[derive(Debug)]
struct Stack {
    base: NonNull<u8>,
    layout: Layout,
}

impl Stack {
    fn allocate(size: usize) -> Result<Stack> {
        let layout = Layout::from_size_align(size, STACK_ALIGN).map_err(|e| {
            Error::refused(format!("no stack layout of {size} bytes: {e}"), "")
        })?;
        // Safety: the layout's size is not zero (STACK_SIZE is a constant
        // multiple of 16, and asserted above to be one).
        let base = unsafe { alloc::alloc(layout) };
        let base = NonNull::new(base).ok_or_else(|| {
            Error::refused(
                format!("could not allocate a stack of {size} bytes"),
                "the machine is out of memory",
            )
        })?;
        Ok(Stack { base, layout })
    }

    /// The address clone(2) wants: where the child's stack pointer starts.
    /// Stacks grow down (on x86-64 and aarch64; clone(2) names HP PA-RISC as
    /// the exception), so that is the end of the block, `base + size`, one
    /// past its last byte: the child's first push writes just below it, in
    /// the block. `base` is 16-byte aligned (the layout) and `size` a
    /// multiple of 16, so the top is 16-byte aligned as the ABI requires.
    /// The slides' `stack + STACK_SIZE` is this, with the alignment left to
    /// luck.
    fn top(&self) -> *mut c_void {
        // Safety: one past the end of the same allocation, which `add`
        // allows; it is only handed to the kernel, never read here.
        unsafe { self.base.as_ptr().add(self.layout.size()) }.cast()
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // Safety: allocated by `Stack::allocate` with this very layout, and
        // freed once, here.
        unsafe { alloc::dealloc(self.base.as_ptr(), self.layout) }
    }
}
// ANCHOR_END: stack
