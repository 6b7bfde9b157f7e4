//! Exercise 11 (chapter 6, persisting a namespace): outliving its processes.
//!
//! Write [`persist_uts`]: keep the UTS namespace of process `pid` alive on
//! the file `path`, by bind-mounting `/proc/PID/ns/uts` onto it, so that the
//! namespace lives on after that process ends, for anyone to join through
//! the file (exercise 12). This is what `mount --bind /proc/PID/ns/uts FILE`
//! does. (`unshare --uts=FILE` persists a namespace that unshare(1) itself
//! creates, the same way.)
//!
//! Read: mount(2) (MS_BIND), namespaces(7) ("The /proc/pid/ns/ directory":
//! "bind mounting one of the files ... keeps the namespace alive"),
//! mount_namespaces(7).
//!
//! The traps: a bind mount needs a target that exists, here an empty file
//! you create. Create it with O_EXCL: never mount over a file that is not
//! yours (a learner's notes, a symlink an attacker planted); if the path
//! exists, refuse. If the mount then fails, remove the file you made. And
//! the mount belongs to the mount namespace it is made in: the checks run
//! your code in a private one of their own, so the host never sees it.
//!
//! Errors come back as `workbook::Error`, never as a panic: after a nix or
//! std call,
//! `.call(|| format!("open({path:?}, O_WRONLY | O_CREAT | O_EXCL)"))?`
//! returns its error naming the call (a bare `?` works on a nix call, not on std's, and
//! its error cannot say which call failed); an errno you matched yourself
//! becomes `Error::sys(format!("mount(...)"), errno)`, and
//! `Err(format!("...").into())` refuses in your own words.
//!
//! Check your work with `cargo test -p ex11-persist-ns` (the root cases too:
//! `cargo test-root -p ex11-persist-ns`); stuck, `cargo workbook hint ex11`.
//! The check, not the solution, is the teacher: it says what is still
//! wrong. The answer is in `solutions/ex11-persist-ns/src/`; `cargo workbook
//! solution ex11` shows it once this exercise passes.
#![allow(unused_imports)] // some imports are for the code you will write

use std::fs::{self, OpenOptions};
use std::path::Path;

use nix::mount::{MsFlags, mount};
use nix::unistd::Pid;
use workbook::error::Context;
use workbook::{Error, Result};

/// Bind-mount `/proc/PID/ns/uts` onto a new empty file at `path`.
pub fn persist_uts(pid: Pid, path: &Path) -> Result<()> {
    todo!("create {path:?} (O_EXCL), then bind-mount /proc/{pid}/ns/uts onto it")
}
