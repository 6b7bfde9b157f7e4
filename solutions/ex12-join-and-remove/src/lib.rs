//! Exercise 12 (chapter 6, persisting a namespace): join it, then clean up.
//!
//! A UTS namespace was kept alive on the file `path` by a bind mount of its
//! namespace file (exercise 11); the process it came from has exited. Write:
//!
//! 1. [`join_file`]: move the calling process into that namespace, through
//!    the file, as `nsenter --uts=FILE` does.
//! 2. [`remove`]: undo it: unmount the namespace from `path`, then delete
//!    the file. Only if `path` really is a namespace bound there: refuse
//!    anything else (a plain file, another mount), leaving it untouched.
//!
//! Read: setns(2), umount(2), namespaces(7), stat(2).
//!
//! The traps: a file with a namespace bound on it is, to every call, the
//! nsfs file itself; the file underneath comes back only after umount(2).
//! So check before unmounting: an nsfs file has the device (st_dev) of the
//! nsfs filesystem, the same as `/proc/self/ns/uts` leads to. Look at the
//! path itself (lstat), not where a symlink points. Never unmount, never
//! delete what is not yours.
//!
//! Errors come back as `workbook::Error`, never as a panic: after a nix or
//! std call, `.call(|| format!("lstat({path:?})"))?` returns its
//! error naming the call (a bare `?` works on a nix call, not on std's, and
//! its error cannot say which call failed); `Err(format!("...").into())`
//! refuses in your own words, as `remove` must.
//!
//! Check your work with `cargo test -p ex12-join-and-remove` (the root cases too:
//! `cargo test-root -p ex12-join-and-remove`); stuck, `cargo workbook hint ex12`.
//! The check, not the solution, is the teacher: it says what is still
//! wrong. The answer is in `solutions/ex12-join-and-remove/src/`; `cargo workbook
//! solution ex12` shows it once this exercise passes.
// STUB: #![allow(unused_imports)] // some imports are for the code you will write

use std::fs;
use std::path::Path;

use nix::fcntl::{OFlag, open};
use nix::mount::{MntFlags, umount2};
use nix::sched::{CloneFlags, setns};
use nix::sys::stat::{Mode, lstat, stat};
use workbook::Result;
use workbook::error::Context;

/// Join the UTS namespace bound on the file `path`.
pub fn join_file(path: &Path) -> Result<()> {
    // STUB: todo!("open {path:?} and setns(fd, CLONE_NEWUTS)")
    // BEGIN SOLUTION
    let fd = open(path, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())
        .call(|| format!("open({path:?}, O_RDONLY | O_CLOEXEC)"))?;
    // CLONE_NEWUTS: refuse (EINVAL) a file that is not a UTS namespace.
    setns(&fd, CloneFlags::CLONE_NEWUTS)
        .call(|| format!("setns(fd of {path:?}, CLONE_NEWUTS)"))
    // END SOLUTION
}

/// Unmount the namespace bound on `path` and delete the file; refuse, and
/// change nothing, if `path` is not a namespace file.
pub fn remove(path: &Path) -> Result<()> {
    // STUB: todo!("refuse unless {path:?} is on nsfs; then umount2 and unlink")
    // BEGIN SOLUTION
    let nsfs =
        stat("/proc/self/ns/uts").call(|| "stat(/proc/self/ns/uts)".into())?;
    let here = lstat(path).call(|| format!("lstat({path:?})"))?;
    if here.st_dev != nsfs.st_dev {
        let what = path.display();
        return Err(format!("{what} is not a namespace file: left untouched").into());
    }
    umount2(path, MntFlags::empty()).call(|| format!("umount2({path:?}, 0)"))?;
    fs::remove_file(path).call(|| format!("unlink({path:?})"))
    // END SOLUTION
}
