//! Exercise 1 (chapter 1, what is a namespace): a namespace's identity.
//!
//! Each process has one file per namespace in `/proc/PID/ns/`, a symbolic
//! link whose text reads `uts:[4026531838]`. Write:
//!
//! 1. [`identity`]: stat(2) such a file and return the namespace's identity,
//!    the pair (st_dev, st_ino) of the nsfs file the link leads to.
//! 2. [`same_namespace`]: whether two such files name the same namespace.
//!
//! Read: namespaces(7) ("The /proc/pid/ns/ directory"), stat(2), proc(5).
//!
//! The trap: the number in the link's text is only the inode. An inode
//! number is unique within one filesystem, not across them, so a namespace
//! is identified by the device *and* the inode; compare both. (readlink(2)
//! gives the text; stat(2) follows the link to the nsfs file itself.)
//!
//! Errors come back as `workbook::Error`, never as a panic: after a nix or
//! std call, `.call(|| format!("stat({path:?})"))?` returns its
//! error naming the call (a bare `?` works on a nix call too, but its error
//! cannot say which call failed); `Err(format!("...").into())` refuses in
//! your own words.
//!
//! Check your work with `cargo test -p ex01-ns-identity` (the root cases too:
//! `cargo test-root -p ex01-ns-identity`); stuck, `cargo workbook hint ex01`.
//! The check, not the solution, is the teacher: it says what is still
//! wrong. The answer is in `solutions/ex01-ns-identity/src/`; `cargo workbook
//! solution ex01` shows it once this exercise passes.
// STUB: #![allow(unused_imports)] // some imports are for the code you will write

use std::path::Path;

use nix::sys::stat::stat;
use workbook::Result;
use workbook::error::Context;

/// A namespace's identity: the (st_dev, st_ino) pair of its nsfs file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    pub dev: u64,
    pub ino: u64,
}

/// The identity of the namespace that the file `path` names (a link in
/// `/proc/PID/ns/`, or a file a namespace was bind-mounted on).
pub fn identity(path: &Path) -> Result<Identity> {
    // STUB: todo!("stat({path:?}) and keep its st_dev and st_ino")
    // BEGIN SOLUTION
    // stat(2), not lstat(2): the link itself is a file of procfs; what
    // identifies the namespace is the nsfs file it leads to.
    let st = stat(path).call(|| format!("stat({path:?})"))?;
    Ok(Identity {
        dev: st.st_dev,
        ino: st.st_ino,
    })
    // END SOLUTION
}

/// Whether the files `a` and `b` name the same namespace.
pub fn same_namespace(a: &Path, b: &Path) -> Result<bool> {
    // STUB: todo!("compare the identities of {a:?} and {b:?}")
    // BEGIN SOLUTION
    Ok(identity(a)? == identity(b)?)
    // END SOLUTION
}
