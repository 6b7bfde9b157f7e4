//! Exercise 6 (chapter 3, clone): the slides' C program, done right.
//!
//! The slides call `clone(child, stack + STACK_SIZE, CLONE_NEWUTS | SIGCHLD,
//! NULL)` from C. Do the same with `libc::clone`, as C does, where nothing is
//! done for you:
//!
//! 1. [`stack_top`]: the address clone(2) wants for the child's stack.
//! 2. [`run_job`]: clone a child into a new UTS namespace that sets its
//!    hostname to `job.hostname` and then returns `(job.then)()` as its exit
//!    status; wait for it and return that status.
//!
//! Read: clone(2) (the glibc wrapper's `fn`, `stack` and `arg`),
//! sethostname(2), waitpid(2), uts_namespaces(7).
//!
//! The traps the slides fall into: the stack grows down, so clone(2) takes
//! the *top* of the block, and the x86-64 and arm64 ABIs want it aligned to
//! 16 bytes. `sethostname(arg, "ernie")` is not the signature:
//! sethostname(2) takes a name and its length. Every call can fail: check it.
//! And the parent must wait for its child, or the child becomes a zombie.
//!
//! Errors come back as `workbook::Error`, never as a panic: a libc call
//! says -1 and leaves the errno in `Errno::last()`, so its error is
//! `Error::sys("clone(CLONE_NEWUTS | SIGCHLD)", Errno::last())`; after a nix
//! call, `.call(|| format!("waitpid({pid})"))?` names it (a bare `?` works
//! too, but cannot say which call failed); `Err(format!("...").into())`
//! refuses in your own words.
//!
//! Check your work with `cargo test -p ex06-raw-clone` (the root cases too:
//! `cargo test-root -p ex06-raw-clone`); stuck, `cargo workbook hint ex06`.
//! The check, not the solution, is the teacher: it says what is still
//! wrong. The answer is in `solutions/ex06-raw-clone/src/`; `cargo workbook
//! solution ex06` shows it once this exercise passes.
// STUB: #![allow(unused_imports, unused_variables)] // until you write the code

use std::ffi::c_void;

use libc::c_int;
use nix::errno::Errno;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{Pid, sethostname};
use workbook::{Error, Result};

/// What the child does: set `hostname` in its new UTS namespace, then exit
/// with the status `then()` returns.
#[derive(Debug)]
pub struct Job {
    pub hostname: String,
    pub then: fn() -> i32,
}

/// One past the last byte of `stack`, rounded down to a multiple of 16.
pub fn stack_top(stack: &mut [u8]) -> *mut c_void {
    // STUB: todo!("the address one past the end of the stack, rounded down to 16")
    // BEGIN SOLUTION
    let end = stack.as_mut_ptr_range().end;
    // wrapping_sub: pointer arithmetic with no promise to dereference.
    end.wrapping_sub(end as usize % 16).cast()
    // END SOLUTION
}

// BEGIN SOLUTION
/// The child's stack: 1 MiB, as in clone(2)'s example.
const STACK_SIZE: usize = 1024 * 1024;

/// Where the child starts, on its new stack, in its new UTS namespace. What
/// it returns is its exit status (the glibc wrapper calls exit(2) with it).
extern "C" fn child(arg: *mut c_void) -> c_int {
    // Safety: `arg` is the `&Job` run_job passed to clone; without CLONE_VM
    // the child has its own copy of the parent's memory, in which that
    // reference is as valid as it was in the parent.
    let job = unsafe { &*arg.cast::<Job>() };
    match sethostname(&job.hostname) {
        Ok(()) => (job.then)(),
        Err(errno) => {
            eprintln!("sethostname(\"{}\") failed: {errno}", job.hostname);
            1
        }
    }
}
// END SOLUTION

/// Run `job` in a child in a new UTS namespace; return its exit status.
pub fn run_job(job: &Job) -> Result<i32> {
    // STUB: todo!("libc::clone a child into a new UTS namespace that runs the job; wait")
    // BEGIN SOLUTION
    let mut stack = vec![0u8; STACK_SIZE];
    let top = stack_top(&mut stack);
    let arg: *mut c_void = std::ptr::from_ref(job).cast_mut().cast();
    // Safety: `child` has the signature clone(2)'s glibc wrapper calls;
    // `top` is the aligned top of `stack`, alive until clone returns (the
    // child runs on its own copy: no CLONE_VM); `arg` points to `job`, which
    // outlives this call. The process has one thread, so the copy is whole.
    let pid =
        unsafe { libc::clone(child, top, libc::CLONE_NEWUTS | libc::SIGCHLD, arg) };
    if pid == -1 {
        return Err(Error::sys("clone(CLONE_NEWUTS | SIGCHLD)", Errno::last()));
    }
    let pid = Pid::from_raw(pid);
    loop {
        match waitpid(pid, None) {
            Ok(WaitStatus::Exited(_, status)) => return Ok(status),
            Ok(WaitStatus::Signaled(_, signal, _)) => {
                return Err(Error::refused(
                    format!("process {pid} was killed by {signal}"),
                    "",
                ));
            }
            Ok(_) | Err(Errno::EINTR) => continue,
            Err(errno) => return Err(Error::sys(format!("waitpid({pid})"), errno)),
        }
    }
    // END SOLUTION
}
