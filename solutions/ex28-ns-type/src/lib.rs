//! Exercise 28 (chapter 14, namespace relations): what is behind an fd.
//!
//! Write the two functions below:
//!
//! 1. [`ns_type`] returns the type of the namespace `fd` refers to, as
//!    `/proc/PID/ns/` names it (`"user"`, `"uts"`, `"pid"`...). The fd may
//!    come from anywhere: `/proc/PID/ns/pid_for_children`, another
//!    process's namespace, or ioctl NS_GET_USERNS, whose answer is a
//!    namespace no process of yours need be in. Ask the kernel: ioctl(fd,
//!    NS_GET_NSTYPE) returns the CLONE_NEW* flag of the type
//!    (`workbook::nsfs::type_flag` makes the call); `workbook::ns::TYPES`
//!    pairs each name with its flag.
//! 2. [`describe`] returns the namespace's identity: its type and the
//!    (st_dev, st_ino) of the file (`NsId::of_fd`).
//!
//! Read: ioctl_ns(2), "Discovering the namespace type"; namespaces(7).
//!
//! The traps: comparing the fd's inode with those of `/proc/self/ns/*`
//! finds only the namespaces you are in; an fd of a file that is no
//! namespace makes the kernel answer ENOTTY, which is an error to return,
//! not a type; and the number the kernel answers is a flag, not an index.
//!
//! Errors come back as `workbook::Error`, never as a panic.
//!
//! Check your work with `cargo test -p ex28-ns-type` (the root cases too:
//! `cargo test-root -p ex28-ns-type`); stuck, `cargo workbook hint ex28`.
//! The answer is in `solutions/ex28-ns-type/src/`; `cargo workbook solution
//! ex28` shows it once this exercise passes.
// STUB: #![allow(unused_imports)] // some imports are for the code you will write

use std::os::fd::BorrowedFd;

use workbook::ns::{NsId, TYPES};
use workbook::{Error, Result, nsfs};

/// The type of the namespace `fd` refers to: `"user"`, `"uts"`...
pub fn ns_type(fd: BorrowedFd<'_>) -> Result<&'static str> {
    // STUB: todo!("ioctl(fd, NS_GET_NSTYPE) on {fd:?}, then the flag's name")
    // BEGIN SOLUTION
    let flag = nsfs::type_flag(fd, "fd")?;
    match TYPES
        .iter()
        .find(|(_, clone_flag)| clone_flag.bits() == flag)
    {
        Some((name, _)) => Ok(name),
        None => Err(Error::refused(
            format!("ioctl(fd, NS_GET_NSTYPE) -> {flag:#x}, no type known here"),
            "",
        )),
    }
    // END SOLUTION
}

/// The identity of the namespace `fd` refers to.
pub fn describe(fd: BorrowedFd<'_>) -> Result<NsId> {
    // STUB: todo!("the type of fd ({fd:?}), then NsId::of_fd")
    // BEGIN SOLUTION
    NsId::of_fd(ns_type(fd)?, fd, "fd")
    // END SOLUTION
}
