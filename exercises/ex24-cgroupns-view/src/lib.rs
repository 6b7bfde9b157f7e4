//! Exercise 24 (chapter 12, cgroup namespaces): the view from inside.
//!
//! Write [`unshare_and_view`]: move the calling process into a new cgroup
//! namespace with unshare(2), prove it is new, then read `/proc/self/cgroup`
//! and `/proc/PID/cgroup` of the process `other`, and return both texts as
//! the kernel gives them from inside.
//!
//! Read: cgroup_namespaces(7), unshare(2), cgroups(7) ("/proc/pid/cgroup").
//!
//! The traps: the namespace's root is the cgroup the process is in AT the
//! unshare, so read after it, not before (before, the paths are the host's);
//! and a process outside that root is shown with `/..`, not hidden, not
//! shown as `/`. The check, as root, puts your process in a cgroup of its
//! own and `other` outside it: you should see yourself in `0::/` and it in
//! `0::/..`.
//!
//! Check your work with `cargo test -p ex24-cgroupns-view` (the root cases
//! too: `cargo test-root -p ex24-cgroupns-view`); stuck, `cargo workbook hint
//! ex24`. The answer is in `solutions/ex24-cgroupns-view/src/`; `cargo
//! workbook solution ex24` shows it once this exercise passes.
#![allow(unused_imports)] // some imports are for the code you will write

use std::fs;

use nix::sched::{CloneFlags, unshare};
use nix::unistd::Pid;
use workbook::Result;
use workbook::error::Context;
use workbook::ns::{self, NsId};

/// What a process in a new cgroup namespace reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// The new namespace.
    pub ns: NsId,
    /// `/proc/self/cgroup`, whole, read after the unshare.
    pub own: String,
    /// `/proc/<other>/cgroup`, whole, read after the unshare.
    pub other: String,
}

/// unshare(CLONE_NEWCGROUP), prove the namespace is new, then read both
/// `/proc/.../cgroup` files from inside.
pub fn unshare_and_view(other: Pid) -> Result<View> {
    todo!("unshare, then read /proc/self/cgroup and /proc/{other}/cgroup")
}
