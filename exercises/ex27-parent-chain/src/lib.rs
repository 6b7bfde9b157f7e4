//! Exercise 27 (chapter 14, namespace relations): a namespace's parents.
//!
//! Write [`parent_chain`]: given an fd of a user or PID namespace (an fd of
//! `/proc/PID/ns/user`, say), return that namespace followed by each of its
//! ancestors, as far up as the kernel answers. Ask its type once
//! (`workbook::nsfs::type_name`, ioctl NS_GET_NSTYPE), then its parent
//! (`workbook::nsfs::parent`, ioctl NS_GET_PARENT) on each new fd in turn,
//! and name each with `NsId::of_fd`.
//!
//! Read: ioctl_ns(2), "Discovering namespace relationships";
//! user_namespaces(7), "Nesting"; pid_namespaces(7).
//!
//! The traps:
//! - EPERM is the end of the walk, not an error: the kernel answers only
//!   about namespaces in the caller's scope, and the initial namespace has
//!   no parent at all. Return the chain you have.
//! - Every other refusal is an error: NS_GET_PARENT on a UTS (net, mnt...)
//!   namespace is EINVAL (only user and PID namespaces nest), and an fd of
//!   a file that is no namespace gives ENOTTY. Return them.
//! - Each NS_GET_PARENT opens a new file (O_CLOEXEC already set by the
//!   kernel). Close each once you have its parent: an `OwnedFd` closes when
//!   dropped; a raw fd number kept in an integer stays open.
//!
//! Errors come back as `workbook::Error`, never as a panic.
//!
//! Check your work with `cargo test -p ex27-parent-chain` (the root cases
//! too: `cargo test-root -p ex27-parent-chain`); stuck, `cargo workbook hint
//! ex27`. The answer is in `solutions/ex27-parent-chain/src/`; `cargo
//! workbook solution ex27` shows it once this exercise passes.
#![allow(unused_imports)] // some imports are for the code you will write

use std::os::fd::{BorrowedFd, OwnedFd};

use nix::errno::Errno;
use workbook::Result;
use workbook::ns::NsId;
use workbook::nsfs;

/// The namespace of `ns_fd`, then its parent, its parent's parent... up to
/// the first the kernel will not show (EPERM).
pub fn parent_chain(ns_fd: BorrowedFd<'_>) -> Result<Vec<NsId>> {
    todo!("the type of ns_fd ({ns_fd:?}) once, then NS_GET_PARENT until EPERM")
}
