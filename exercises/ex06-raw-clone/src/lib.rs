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
#![allow(unused_imports, unused_variables)] // until you write the code

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
    todo!("the address one past the end of the stack, rounded down to 16")
}

/// Run `job` in a child in a new UTS namespace; return its exit status.
pub fn run_job(job: &Job) -> Result<i32> {
    todo!("libc::clone a child into a new UTS namespace that runs the job; wait")
}
