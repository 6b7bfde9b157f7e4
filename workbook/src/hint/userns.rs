//! Hints for the calls of chapter 7: a parent writing its child's maps,
//! ids that have no mapping, and the ioctls of a namespace file.

use nix::errno::Errno;

/// The hint for `call` failing with `errno`, if it is one of these.
pub(super) fn for_call(call: &str, errno: Errno) -> Option<String> {
    let name = super::call_name(call);
    let hint = match (name, errno) {
        // setuid(2), setgid(2), EINVAL: "The user ID specified in uid is
        // not valid in this user namespace": no line of the map covers it.
        ("setuid" | "setgid" | "setresuid" | "setresgid", Errno::EINVAL) => {
            let map = match name.contains("gid") {
                true => "gid_map",
                false => "uid_map",
            };
            format!(
                "that id has no mapping in this process's user namespace (user_namespaces(7)): \
                 a process in the parent user namespace must first write /proc/PID/{map} \
                 (e.g. \"0 UID 1\"), or pick an id the map covers"
            )
        }
        // user_namespaces(7), "Defining user and group ID mappings". For a
        // process's own maps (/proc/self), hint.rs's arms speak of what
        // usually refuses those: a security module.
        ("write", Errno::EPERM) if is_other_process_map(call) => {
            "the kernel refuses a map write when: the map was already written (once only); \
             the writer lacks CAP_SETUID (CAP_SETGID) in the parent user namespace and maps \
             anything but its own id in one line; or, for gid_map without CAP_SETGID there, \
             /proc/PID/setgroups does not say \"deny\" yet (write it first) \
             (user_namespaces(7), \"Defining user and group ID mappings\")"
                .into()
        }
        // user_namespaces(7), "The /proc/pid/setgroups file": "deny" is
        // refused once gid_map has been written.
        ("write", Errno::EPERM) if is_other_process_file(call, "setgroups") => {
            "/proc/PID/setgroups takes \"deny\" only before gid_map is written \
             (user_namespaces(7), \"The /proc/[pid]/setgroups file\"): write it first"
                .into()
        }
        // ioctl_ns(2), ERRORS.
        ("ioctl", Errno::EPERM) if call.contains("NS_GET_") => {
            "the namespace asked for is above this process's own user namespace: ioctl_ns(2) \
             answers only about namespaces in its scope. Ask from a process of an outer user \
             namespace (e.g. the parent)"
                .into()
        }
        ("ioctl", Errno::ENOTTY) if call.contains("NS_GET_") => {
            "the fd is not a namespace file: open /proc/PID/ns/TYPE (ioctl_ns(2), Linux 4.9+)"
                .into()
        }
        ("ioctl", Errno::EINVAL) if call.contains("NS_GET_PARENT") => {
            "only user and PID namespaces have a parent (ioctl_ns(2)); for the others ask \
             NS_GET_USERNS, their owner"
                .into()
        }
        _ => return None,
    };
    Some(hint)
}

/// `write(fd of "/proc/1234/uid_map", ...)`: another process's map.
fn is_other_process_map(call: &str) -> bool {
    is_other_process_file(call, "uid_map") || is_other_process_file(call, "gid_map")
}

/// `/proc/<digits>/<file>` in `call`.
fn is_other_process_file(call: &str, file: &str) -> bool {
    let Some((_, rest)) = call.split_once("/proc/") else {
        return false;
    };
    let pid: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let rest = &rest[pid.len()..];
    !pid.is_empty() && rest.strip_prefix('/').is_some_and(|r| r.starts_with(file))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hint(call: &str, errno: Errno) -> String {
        for_call(call, errno).unwrap_or_default()
    }

    #[test]
    fn an_unmapped_id_names_the_map_to_write() {
        let h = hint("setgid(0)", Errno::EINVAL);
        assert!(h.contains("/proc/PID/gid_map"), "{h}");
        let h = hint("setuid(0)", Errno::EINVAL);
        assert!(h.contains("/proc/PID/uid_map"), "{h}");
    }

    #[test]
    fn a_refused_map_of_another_process_names_the_rules() {
        let h = hint(
            "write(fd of \"/proc/42/gid_map\", \"0 1000 1\")",
            Errno::EPERM,
        );
        assert!(h.contains("once") && h.contains("deny"), "{h}");
        // One's own maps keep hint.rs's arms.
        assert!(
            for_call(
                "write(fd of \"/proc/self/uid_map\", \"0 1 1\")",
                Errno::EPERM
            )
            .is_none()
        );
        let h = hint(
            "write(fd of \"/proc/42/setgroups\", \"deny\")",
            Errno::EPERM,
        );
        assert!(h.contains("before gid_map"), "{h}");
    }

    #[test]
    fn nsfs_ioctls() {
        assert!(
            hint("ioctl(uts_fd, NS_GET_USERNS)", Errno::EPERM).contains("scope")
        );
        assert!(
            hint("ioctl(fd, NS_GET_USERNS)", Errno::ENOTTY)
                .contains("/proc/PID/ns/")
        );
        assert!(
            hint("ioctl(fd, NS_GET_PARENT)", Errno::EINVAL).contains("user and PID")
        );
        assert!(for_call("ioctl(fd, TIOCGWINSZ)", Errno::ENOTTY).is_none());
    }
}
