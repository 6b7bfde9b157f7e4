//! The ioctls of a namespace file: which namespace owns, or is the parent of,
//! another.
//!
//! ioctl_ns(2): an fd of a `/proc/PID/ns/*` file (an nsfs file) answers
//! NS_GET_USERNS (the user namespace that owns the namespace) and
//! NS_GET_PARENT (the parent of a user or PID namespace) with a new fd, of
//! the namespace asked for, opened O_RDONLY | O_CLOEXEC. Both since Linux
//! 4.9. The kernel answers only inside the caller's scope: a namespace owned
//! by (or a parent that is) a user namespace above the caller's own gives
//! EPERM. A file that is not an nsfs file gives ENOTTY; NS_GET_PARENT of a
//! type without parents (UTS, net...) gives EINVAL.
//!
//! The libc crate has the request numbers; nix and rustix have no wrapper
//! that returns the new fd, so the call is made here, once.

use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};

use nix::errno::Errno;

use crate::error::{Error, Result};
use crate::ns::NsId;

/// NS_GET_USERNS: the user namespace that owns the namespace `ns_fd` is of.
/// `what` names the fd in an error, as in `fd of "/proc/self/ns/uts"`.
pub fn owner(ns_fd: impl AsFd, what: &str) -> Result<OwnedFd> {
    request(ns_fd, libc::NS_GET_USERNS, "NS_GET_USERNS", what)
}

/// NS_GET_PARENT: the parent of the user or PID namespace `ns_fd` is of.
pub fn parent(ns_fd: impl AsFd, what: &str) -> Result<OwnedFd> {
    request(ns_fd, libc::NS_GET_PARENT, "NS_GET_PARENT", what)
}

/// [`owner`], read as an identity: the user namespace that owns `ns_fd`'s.
pub fn owner_id(ns_fd: impl AsFd, what: &str) -> Result<NsId> {
    let user_fd = owner(ns_fd, what)?;
    NsId::of_fd("user", &user_fd, &format!("ioctl({what}, NS_GET_USERNS)"))
}

fn request(
    ns_fd: impl AsFd,
    request: libc::Ioctl,
    name: &str,
    what: &str,
) -> Result<OwnedFd> {
    let fd = ns_fd.as_fd();
    // Safety: these two requests take no argument (ioctl_ns(2)); the kernel
    // reads nothing from this process's memory and writes nothing to it.
    // `fd` is borrowed, so it stays open for the whole call.
    let ret = unsafe { libc::ioctl(fd.as_raw_fd(), request) };
    if ret == -1 {
        return Err(Error::sys(format!("ioctl({what}, {name})"), Errno::last()));
    }
    // Safety: on success the kernel returns a new descriptor, open and owned
    // by no one else in this process: the OwnedFd takes it, and closes it once.
    Ok(unsafe { OwnedFd::from_raw_fd(ret) })
}
