//! Hints for the calls of chapter 14: the ioctls that relate namespaces
//! (ioctl_ns(2)), where chapter 7's hints (userns.rs) are too general.

use nix::errno::Errno;

/// The hint for `call` failing with `errno`, if it is one of these.
pub(super) fn hint(call: &str, errno: Errno) -> Option<String> {
    if super::call_name(call) != "ioctl" {
        return None;
    }
    let hint = match errno {
        // ioctl_ns(2), NS_GET_PARENT: "EPERM: the requested namespace is
        // outside of the caller's namespace scope"; the initial namespace
        // has no parent, and the kernel gives EPERM for that too.
        Errno::EPERM if call.contains("NS_GET_PARENT") => {
            "the parent is above the caller's own user (or PID) namespace, or there is none \
             (the initial namespace): that is the end of a walk up, not a failure \
             (ioctl_ns(2)). To see further up, ask from a process of an outer namespace"
        }
        // ioctl_ns(2), NS_GET_OWNER_UID: "EINVAL: fd does not refer to a
        // user namespace".
        Errno::EINVAL if call.contains("NS_GET_OWNER_UID") => {
            "only a user namespace has an owner uid (ioctl_ns(2)): for another type, get its \
             owner first (NS_GET_USERNS), then ask NS_GET_OWNER_UID of that fd"
        }
        // A request the kernel does not know is ENOTTY: NS_GET_ID is in
        // Linux 6.18 (checked on 6.18.44), not in the man page yet.
        Errno::ENOTTY if call.contains("NS_GET_ID") => {
            "either the fd is no namespace file (open /proc/PID/ns/TYPE), or this kernel is \
             older than Linux 6.18, which added NS_GET_ID (`uname -r`); without it, identify a \
             namespace by the (st_dev, st_ino) of its file, which holds only while it is alive"
        }
        _ => return None,
    };
    Some(hint.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_end_of_a_walk() {
        let h = hint(
            "ioctl(fd of user:[4026531837], NS_GET_PARENT)",
            Errno::EPERM,
        );
        assert!(h.unwrap_or_default().contains("end of a walk"));
        // NS_GET_USERNS's EPERM keeps chapter 7's hint.
        assert!(hint("ioctl(uts_fd, NS_GET_USERNS)", Errno::EPERM).is_none());
    }

    #[test]
    fn owner_uid_of_another_type() {
        let h = hint("ioctl(fd, NS_GET_OWNER_UID, &uid)", Errno::EINVAL);
        assert!(h.unwrap_or_default().contains("NS_GET_USERNS"));
    }

    #[test]
    fn ns_get_id_on_an_old_kernel() {
        let h = hint("ioctl(fd, NS_GET_ID, &id)", Errno::ENOTTY);
        assert!(h.unwrap_or_default().contains("6.18"));
        assert!(hint("ioctl(fd, TIOCGWINSZ)", Errno::ENOTTY).is_none());
    }
}
