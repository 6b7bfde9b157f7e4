//! Hints for the refusals of building a container's root (chapter 16).
//! Checked on Linux 6.18: a new proc mounted after the old root was
//! detached, in a user namespace, gives EPERM (exercise 32's trap).

use nix::errno::Errno;

use super::call_name;

/// The hint for `call` failing with `errno`, if it is a container case.
pub(super) fn hint(call: &str, errno: Errno) -> Option<String> {
    let proc_mount = call_name(call) == "mount" && call.contains("\"proc\", ");
    match errno {
        // user_namespaces(7), "Capabilities": mounting a proc needs
        // CAP_SYS_ADMIN in the user namespace that owns the caller's PID
        // namespace. Outside the initial user namespace the kernel also
        // wants a proc already fully visible in the mount namespace
        // (mount_too_revealing() in fs/namespace.c; no man page says it).
        Errno::EPERM if proc_mount => Some(
            "a new proc is mounted only by a process with CAP_SYS_ADMIN in the user \
             namespace that owns its PID namespace (user_namespaces(7)): make the PID \
             namespace in your own user namespace and mount from a process born in it. \
             And outside the initial user namespace the kernel mounts a new proc only \
             where a proc is already fully visible in the mount namespace (a host /proc \
             with nothing mounted over its files): mount it before you detach the old \
             root, not after"
                .into(),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_proc_mount_says_mount_it_before_the_detach() {
        let call = "mount(\"proc\", \"/proc\", \"proc\", 0, NULL)";
        let hint = hint(call, Errno::EPERM).unwrap_or_default();
        assert!(hint.contains("before you detach the old root"), "{hint}");
        assert!(hint.contains("owns its PID namespace"), "{hint}");
    }

    #[test]
    fn other_mounts_and_errnos_are_not_this_case() {
        let tmpfs = "mount(\"tmpfs\", \"/mnt\", \"tmpfs\", 0, NULL)";
        assert_eq!(hint(tmpfs, Errno::EPERM), None);
        let proc = "mount(\"proc\", \"/proc\", \"proc\", 0, NULL)";
        assert_eq!(hint(proc, Errno::ENOENT), None);
    }
}
