//! Exercise 14 (chapter 7, user namespaces): who owns a namespace.
//!
//! Write the two functions below:
//!
//! 1. [`owner_of`] returns the identity of the user namespace that owns the
//!    namespace of the nsfs file `ns_file` (e.g. `/proc/self/ns/uts`): ask
//!    the kernel with ioctl(fd, NS_GET_USERNS), which
//!    `workbook::nsfs::owner_id` makes for you on an open file.
//! 2. [`own_uts`] moves the calling process into a new user namespace and
//!    a new UTS namespace that this user namespace owns, sets the hostname
//!    there to `name`, and returns the identities of both.
//!
//! Read: user_namespaces(7), "Interaction of user namespaces and other types
//! of namespaces"; ioctl_ns(2); unshare(2).
//!
//! The trap: a namespace belongs to the user namespace its creator was in
//! at the moment it was created. Make the UTS namespace first and the user
//! namespace second, and the UTS namespace belongs to the user namespace you
//! left: your capabilities, all of them in the new one, count for nothing
//! there, and sethostname(2) fails with EPERM, even for root. The user
//! namespace comes first (or both flags in one unshare(2) call: the kernel
//! then creates the user namespace first). And a new user namespace alone
//! is not enough: the UTS namespace you are in still belongs to the old one.
//! For [`owner_of`]: stat(2) of the file gives the namespace itself, not its
//! owner.
//!
//! Errors come back as `workbook::Error`, never as a panic: after a nix
//! call, `.call(|| "unshare(CLONE_NEWUSER)".into())?` returns its error
//! naming the call.
//!
//! Check your work with `cargo test -p ex14-own-uts` (the root cases too:
//! `cargo test-root -p ex14-own-uts`); stuck, `cargo workbook hint ex14`.
//! The check, not the solution, is the teacher: it says what is still
//! wrong. The answer is in `solutions/ex14-own-uts/src/`; `cargo workbook
//! solution ex14` shows it once this exercise passes.
// STUB: #![allow(unused_imports)] // some imports are for the code you will write

use std::fs::File;
use std::path::Path;

use nix::sched::{CloneFlags, unshare};
use nix::unistd::sethostname;
use workbook::Result;
use workbook::error::Context;
use workbook::ns::NsId;
use workbook::nsfs;

/// The user namespace that owns the namespace of the nsfs file `ns_file`.
pub fn owner_of(ns_file: &Path) -> Result<NsId> {
    // STUB: todo!("open {ns_file:?}, then ask its owner with NS_GET_USERNS")
    // BEGIN SOLUTION
    let file =
        File::open(ns_file).call(|| format!("open({ns_file:?}, O_RDONLY)"))?;
    nsfs::owner_id(&file, &format!("fd of {ns_file:?}"))
    // END SOLUTION
}

/// Enter a new user namespace and a new UTS namespace it owns; set the
/// hostname there to `name`. Returns (the user namespace, the UTS namespace).
pub fn own_uts(name: &str) -> Result<(NsId, NsId)> {
    // STUB: todo!("new user and UTS namespaces (which first?); sethostname({name:?})")
    // BEGIN SOLUTION
    // The user namespace first: the UTS namespace created next belongs to
    // it, and there this process holds CAP_SYS_ADMIN.
    unshare(CloneFlags::CLONE_NEWUSER).call(|| "unshare(CLONE_NEWUSER)".into())?;
    unshare(CloneFlags::CLONE_NEWUTS).call(|| "unshare(CLONE_NEWUTS)".into())?;
    sethostname(name).call(|| format!("sethostname({name:?})"))?;
    Ok((NsId::current("user")?, NsId::current("uts")?))
    // END SOLUTION
}
