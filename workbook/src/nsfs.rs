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
//!
//! Chapter 14 adds the requests that answer with a number: NS_GET_NSTYPE
//! (the CLONE_NEW* flag of the namespace's type) and NS_GET_OWNER_UID (the
//! uid that created a user namespace, as the caller's user namespace sees
//! it), both since Linux 4.11 (ioctl_ns(2)); and NS_GET_ID, a 64-bit id
//! that the kernel never gives to another namespace until the next boot,
//! unlike the inode, which a new namespace may get once the old one is
//! freed. NS_GET_ID is newer than ioctl_ns(2): checked here on Linux
//! 6.18.44 (it comes with the 6.18 patches that give every namespace such
//! an id); an older kernel answers ENOTTY, as for any request it does not
//! know, and [`id`] then returns `None`.

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

/// NS_GET_NSTYPE: the CLONE_NEW* flag of the namespace's type, as the
/// kernel answers it (`libc::CLONE_NEWUTS`...).
pub fn type_flag(ns_fd: impl AsFd, what: &str) -> Result<libc::c_int> {
    let fd = ns_fd.as_fd();
    // Safety: NS_GET_NSTYPE takes no argument (ioctl_ns(2)); the kernel
    // reads and writes none of this process's memory. `fd` is borrowed, so
    // it stays open for the whole call.
    let ret = unsafe { libc::ioctl(fd.as_raw_fd(), libc::NS_GET_NSTYPE) };
    if ret == -1 {
        return Err(Error::sys(
            format!("ioctl({what}, NS_GET_NSTYPE)"),
            Errno::last(),
        ));
    }
    Ok(ret)
}

/// NS_GET_NSTYPE, read as the type's name in `/proc/PID/ns/` (`uts`, ...).
pub fn type_name(ns_fd: impl AsFd, what: &str) -> Result<&'static str> {
    let flag = type_flag(ns_fd, what)?;
    crate::ns::TYPES
        .iter()
        .find(|(_, clone_flag)| clone_flag.bits() == flag)
        .map(|(name, _)| *name)
        .ok_or_else(|| {
            Error::refused(
                format!("ioctl({what}, NS_GET_NSTYPE) -> {flag:#x}, a type this workbook does not know"),
                "a kernel newer than this workbook knows one more namespace type",
            )
        })
}

/// NS_GET_OWNER_UID: the uid that created the user namespace `user_fd` is
/// of, as the caller's user namespace maps it (the overflow uid if it does
/// not). Any other type of namespace: EINVAL.
pub fn owner_uid(user_fd: impl AsFd, what: &str) -> Result<libc::uid_t> {
    let fd = user_fd.as_fd();
    let mut uid: libc::uid_t = 0;
    // Safety: NS_GET_OWNER_UID writes one uid_t through its argument
    // (ioctl_ns(2)); `uid` is a live, aligned uid_t for the whole call.
    let ret =
        unsafe { libc::ioctl(fd.as_raw_fd(), libc::NS_GET_OWNER_UID, &raw mut uid) };
    if ret == -1 {
        return Err(Error::sys(
            format!("ioctl({what}, NS_GET_OWNER_UID, &uid)"),
            Errno::last(),
        ));
    }
    Ok(uid)
}

/// NS_GET_ID's request number. The libc crate (0.2.191) lacks it; the
/// kernel defines it in include/uapi/linux/nsfs.h as
/// `_IOR(NSIO, 13, __u64)` with NSIO 0xb7: direction "read" (2) in bits
/// 30-31, the argument's size (8) in bits 16-29, the type 0xb7 in bits 8-15
/// and the number 13 (0xd) in bits 0-7 (asm-generic/ioctl.h): 0x8008b70d.
pub const NS_GET_ID: libc::Ioctl = ior(0xb7, 0xd, 8);

/// asm-generic/ioctl.h's `_IOR(type, nr, size)`.
const fn ior(ioctl_type: u32, nr: u32, size: u32) -> libc::Ioctl {
    const IOC_READ: u32 = 2;
    ((IOC_READ << 30) | (size << 16) | (ioctl_type << 8) | nr) as libc::Ioctl
}

/// NS_GET_ID: the namespace's 64-bit id, unique until the next boot; `None`
/// when this kernel does not know the request (before 6.18: ENOTTY on a
/// file that NS_GET_NSTYPE shows is a namespace).
pub fn id(ns_fd: impl AsFd, what: &str) -> Result<Option<u64>> {
    let fd = ns_fd.as_fd();
    let mut ns_id: u64 = 0;
    // Safety: NS_GET_ID writes one __u64 through its argument (nsfs.h,
    // `_IOR(NSIO, 13, __u64)`); `ns_id` is a live, aligned u64 for the
    // whole call, and a kernel that does not know the request writes nothing.
    let ret = unsafe { libc::ioctl(fd.as_raw_fd(), NS_GET_ID, &raw mut ns_id) };
    if ret == -1 {
        let errno = Errno::last();
        if errno == Errno::ENOTTY && type_flag(fd, what).is_ok() {
            return Ok(None);
        }
        return Err(Error::sys(format!("ioctl({what}, NS_GET_ID, &id)"), errno));
    }
    Ok(Some(ns_id))
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::fs::File;

    use super::*;

    /// [`ior`] encodes include/uapi/linux/nsfs.h's
    /// `#define NS_GET_ID _IOR(NSIO, 13, __u64)` (with `#define NSIO 0xb7`)
    /// as asm-generic/ioctl.h does: read (2) << 30 | sizeof(__u64) (8) << 16
    /// | 0xb7 << 8 | 13. This checks the encoding only; that the kernel
    /// answers the number is `ns_get_id_answers_on_a_namespace_file`.
    #[test]
    fn ns_get_id_is_the_ior_encoding_of_nsfs_h() {
        assert_eq!(NS_GET_ID, 0x8008_b70d as libc::Ioctl);
    }

    /// The kernel answers NS_GET_ID on a namespace file from Linux 6.18 on
    /// (checked on 6.18.44): a nonzero id, the same through another fd of
    /// the same namespace. Gated on the release, not skipped: this crate
    /// cannot use testkit.
    #[test]
    fn ns_get_id_answers_on_a_namespace_file() {
        let uts = File::open("/proc/self/ns/uts").unwrap();
        let answer = id(&uts, "fd of \"/proc/self/ns/uts\"").unwrap();
        // Before 6.18 (or a release this cannot read) there is nothing to
        // require of the kernel: a distribution may have backported the
        // request. `id` must still answer, which unwrap checked.
        if crate::machine::facts().kernel_at_least((6, 18)) == Some(true) {
            assert!(answer.is_some(), "Linux 6.18+ answers NS_GET_ID");
            let ns_id = answer.unwrap();
            assert_ne!(ns_id, 0, "NS_GET_ID -> 0 on /proc/self/ns/uts");
            // The same namespace, asked again through another fd: the same id.
            let again = File::open("/proc/thread-self/ns/uts").unwrap();
            assert_eq!(id(&again, "again").unwrap(), Some(ns_id));
        }
    }

    #[test]
    fn the_type_of_a_namespace_file() {
        let uts = File::open("/proc/thread-self/ns/uts").unwrap();
        assert_eq!(type_name(&uts, "uts").unwrap(), "uts");
        let user = File::open("/proc/thread-self/ns/user").unwrap();
        assert_eq!(type_name(&user, "user").unwrap(), "user");
    }

    #[test]
    fn refusals_name_the_request() {
        let uts = File::open("/proc/thread-self/ns/uts").unwrap();
        let err = owner_uid(&uts, "uts_fd").unwrap_err();
        assert_eq!(err.errno(), Some(Errno::EINVAL));
        assert!(
            err.to_string()
                .contains("ioctl(uts_fd, NS_GET_OWNER_UID, &uid)")
        );
        let status = File::open("/proc/self/status").unwrap();
        let err = id(&status, "status_fd").unwrap_err();
        assert_eq!(err.errno(), Some(Errno::ENOTTY));
        assert_eq!(
            type_flag(&status, "status_fd").unwrap_err().errno(),
            Some(Errno::ENOTTY)
        );
    }
}
