//! Hints for the calls of chapter 15 (namespace lifetime): the file handles
//! of nsfs, and SIOCGSKNS. (NS_GET_ID's are chapter 14's, `relations`.)

use nix::errno::Errno;

use super::{call_name, too_old};
use crate::machine::Facts;

/// Linux 6.18 added file handles for nsfs (fs/nsfs.c).
const NEEDS: &str = "nsfs file handles need Linux 6.18";

/// The hint for a lifetime call, or `None` to let the general rules decide.
pub(super) fn hint(call: &str, errno: Errno, facts: &Facts) -> Option<String> {
    let name = call_name(call);
    match (name, errno) {
        // name_to_handle_at(2), EOPNOTSUPP: "The filesystem does not support
        // decoding of a pathname to a file handle": nsfs before 6.18, or the
        // /proc/PID/ns link itself, without AT_SYMLINK_FOLLOW.
        ("name_to_handle_at", Errno::EOPNOTSUPP) => Some(format!(
            "{}; a /proc/PID/ns/* path needs AT_SYMLINK_FOLLOW (without it the handle \
             asked for is the proc link's, which has none)",
            too_old(NEEDS, facts)
        )),
        ("name_to_handle_at", Errno::ENOENT) => {
            Some("no such file: has the process exited? (/proc/PID goes with it)".into())
        }
        // open_by_handle_at(2), EPERM: without CAP_DAC_READ_SEARCH, a first
        // argument that is not nsfs's (nsfs waives the capability).
        ("open_by_handle_at", Errno::EPERM) => Some(
            "pass an nsfs fd or FD_NSFS_ROOT as the first argument: nsfs needs no \
             CAP_DAC_READ_SEARCH, any other filesystem does (open_by_handle_at(2)); or a \
             seccomp filter refuses the call (`Seccomp:` in /proc/self/status)"
                .into(),
        ),
        // fs/nsfs.c (6.18), nsfs_fh_to_dentry: a namespace not found, or one
        // the caller may not open, both end as ESTALE (exportfs).
        ("open_by_handle_at", Errno::ESTALE) => Some(
            "the namespace is gone (namespaces(7), \"Namespace lifetime\"), or this process \
             may not open it: only a process in it, or with CAP_SYS_ADMIN in the user \
             namespace that owns it, may; the kernel answers ESTALE for both"
                .into(),
        ),
        ("open_by_handle_at", Errno::EBADF) => Some(too_old(
            "FD_NSFS_ROOT as open_by_handle_at's first argument needs Linux 6.18",
            facts,
        )),
        // net/socket.c, sock_ioctl: SIOCGSKNS needs CAP_NET_ADMIN over the
        // socket's network namespace.
        ("ioctl", Errno::EPERM) if call.contains("SIOCGSKNS") => Some(
            "SIOCGSKNS needs CAP_NET_ADMIN in the user namespace that owns the socket's \
             network namespace: run as root, or make the namespace inside a user namespace \
             of your own"
                .into(),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            kernel: Some((6, 6)),
            ..Facts::default()
        }
    }

    #[test]
    fn old_kernels_are_named() {
        let h = hint(
            "name_to_handle_at(AT_FDCWD, \"/proc/1/ns/uts\", AT_SYMLINK_FOLLOW)",
            Errno::EOPNOTSUPP,
            &facts(),
        );
        assert!(
            h.is_some_and(|h| h.contains("AT_SYMLINK_FOLLOW")
                && h.contains("this kernel is 6.6"))
        );
    }

    #[test]
    fn open_by_handle_says_who_may() {
        let call = "open_by_handle_at(FD_NSFS_ROOT, {ns_id 9}, O_RDONLY)";
        let h = hint(call, Errno::ESTALE, &facts());
        assert!(
            h.is_some_and(|h| h.contains("CAP_SYS_ADMIN in the user namespace"))
        );
        let h = hint(call, Errno::EPERM, &facts());
        assert!(h.is_some_and(|h| h.contains("FD_NSFS_ROOT")));
        assert!(hint("ioctl(sock, SIOCGSKNS)", Errno::EPERM, &facts()).is_some());
        assert!(hint("ioctl(fd, NS_GET_USERNS)", Errno::EPERM, &facts()).is_none());
    }
}
