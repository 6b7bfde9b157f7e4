//! Exercise 2 (chapter 1, what is a namespace): which namespaces differ.
//!
//! Write [`differing_links`]: given a process, list the entries of
//! `/proc/PID/ns/` that name a different namespace for it than for the
//! calling process. Take the entries from the directory itself rather than
//! from a list you type: besides one link per type (`cgroup`, `ipc`, `mnt`,
//! `net`, `pid`, `time`, `user`, `uts`) there are `pid_for_children` and
//! `time_for_children`, the namespaces the process's next children will be
//! born in.
//!
//! Read: namespaces(7) ("The /proc/pid/ns/ directory"), proc(5),
//! time_namespaces(7), pid_namespaces(7).
//!
//! The traps: unshare(CLONE_NEWTIME) or unshare(CLONE_NEWPID) does not move
//! the caller, only its future children, so `time` stays the same and
//! `time_for_children` differs; comparing only the eight types misses that.
//! Compare identities (st_dev, st_ino), as in exercise 1. And reading another
//! process's `/proc/PID/ns` needs ptrace read access to it (proc(5)); a
//! process that is gone gives an error, not an empty list. One entry may
//! fail on its own: after unshare(CLONE_NEWPID), `pid_for_children` has no
//! target until the first child is born, and stat(2) of it gives ENOENT
//! (namespaces(7) says readlink(2) gives "an empty buffer"; on Linux 6.18 it
//! too gives ENOENT). The checks do not build that case; if you meet it,
//! returning the error is right.
//!
//! Errors come back as `workbook::Error`, never as a panic: after a nix or
//! std call, `.call(|| format!("opendir({dir:?})"))?` returns its error naming
//! the call (a bare `?` works on a nix call, not on std's, and its error
//! cannot say which call failed); `Err(format!("...").into())` refuses in
//! your own words.
//!
//! Check your work with `cargo test -p ex02-which-differ` (the root cases too:
//! `cargo test-root -p ex02-which-differ`); stuck, `cargo workbook hint ex02`.
//! The check, not the solution, is the teacher: it says what is still
//! wrong. The answer is in `solutions/ex02-which-differ/src/`; `cargo workbook
//! solution ex02` shows it once this exercise passes.
// STUB: #![allow(unused_imports)] // some imports are for the code you will write

use std::fs;

use nix::sys::stat::stat;
use nix::unistd::Pid;
use workbook::Result;
use workbook::error::Context;

/// The names of the entries of `/proc/PID/ns/` (e.g. `"uts"`,
/// `"time_for_children"`) that name a different namespace for process `pid`
/// than for the calling process, sorted by name.
pub fn differing_links(pid: Pid) -> Result<Vec<String>> {
    // STUB: todo!("compare each entry of /proc/{pid}/ns with the same one of /proc/self/ns")
    // BEGIN SOLUTION
    // A namespace's identity, as in exercise 1: stat(2) follows the link.
    let identity = |path: &str| -> Result<(u64, u64)> {
        let st = stat(path).call(|| format!("stat({path:?})"))?;
        Ok((st.st_dev, st.st_ino))
    };
    let dir = format!("/proc/{pid}/ns");
    let mut differ = Vec::new();
    for entry in fs::read_dir(&dir).call(|| format!("opendir({dir:?})"))? {
        let entry = entry.call(|| format!("readdir({dir:?})"))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let theirs = identity(&format!("{dir}/{name}"))?;
        let ours = identity(&format!("/proc/self/ns/{name}"))?;
        if theirs != ours {
            differ.push(name);
        }
    }
    differ.sort();
    Ok(differ)
    // END SOLUTION
}
