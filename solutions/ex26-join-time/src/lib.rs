//! Exercise 26 (chapter 13, time namespaces): join one, and move yourself.
//!
//! Write [`join_time_of`]: it moves the calling process into the time
//! namespace of process `pid` with setns(2), proves with the kernel that it
//! moved (both its `time` and its `time_for_children` links now name that
//! namespace) and returns the namespace's identity.
//!
//! Read: setns(2) ("Network, IPC, time, and UTS namespaces"),
//! time_namespaces(7).
//!
//! Unlike unshare(CLONE_NEWTIME), which moves only the children to come,
//! setns(2) into a time namespace moves the caller itself, and its children
//! with it: from then on the caller's CLOCK_MONOTONIC reads that namespace's
//! offset ahead. The trap: the kernel refuses it to a process with more than
//! one thread (EUSERS, which setns(2) does not list: it comes from the
//! kernel's timens_install(), since a time namespace's clock offsets are
//! mapped into the whole process). Return that error; do not ignore it.
//!
//! nix 0.32 has no CLONE_NEWTIME in `CloneFlags`: build it with
//! `CloneFlags::from_bits_retain(libc::CLONE_NEWTIME)`.
//!
//! Errors come back as `workbook::Error`, never as a panic: after a call,
//! `.call(|| format!("setns(fd of {path:?}, CLONE_NEWTIME)"))?` returns its
//! error naming the call (use `workbook::error::Context`);
//! `workbook::ns::ensure_joined` refuses for you.
//!
//! Check your work with `cargo test -p ex26-join-time` (the root cases too:
//! `cargo test-root -p ex26-join-time`); stuck, `cargo workbook hint ex26`.
//! The check, not the solution, is the teacher: it says what is still
//! wrong. The answer is in `solutions/ex26-join-time/src/`; `cargo workbook
//! solution ex26` shows it once this exercise passes.
// STUB: #![allow(unused_imports)] // some imports are for the code you will write

use std::fs::File;

use nix::sched::{CloneFlags, setns};
use nix::unistd::Pid;
use workbook::Result;
use workbook::error::Context;
use workbook::ns::{self, NsId};

/// Move the caller into the time namespace of process `pid`; prove it on
/// both links; return that namespace's identity.
pub fn join_time_of(pid: Pid) -> Result<NsId> {
    // STUB: todo!("setns into /proc/{pid}/ns/time, then check both links")
    // BEGIN SOLUTION
    let path = format!("/proc/{pid}/ns/time");
    // File::open opens with O_RDONLY | O_CLOEXEC.
    let time_fd = File::open(&path).call(|| format!("open({path:?}, O_RDONLY)"))?;
    let wanted = NsId::of_fd("time", &time_fd, &path)?;
    let newtime = CloneFlags::from_bits_retain(libc::CLONE_NEWTIME);
    setns(&time_fd, newtime)
        .call(|| format!("setns(fd of {path:?}, CLONE_NEWTIME)"))?;
    // The caller moved, and its children will be born there too.
    ns::ensure_joined(wanted, NsId::current("time")?)?;
    ns::ensure_joined(wanted, NsId::current("time_for_children")?)?;
    Ok(wanted)
    // END SOLUTION
}
