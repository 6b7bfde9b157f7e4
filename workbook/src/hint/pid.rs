//! Hints for the refusals of PID namespaces (chapter 8): pid_namespaces(7).
//! Both were checked on Linux 6.18.

use nix::errno::Errno;

use super::{call_name, has_word};

/// The hint for `call` failing with `errno`, if it is a PID-namespace case.
pub(super) fn hint(call: &str, errno: Errno) -> Option<String> {
    let name = call_name(call);
    let creates = matches!(name, "unshare" | "clone" | "clone3");
    match errno {
        // pid_namespaces(7), "setns(2) and unshare(2) semantics": "A process
        // may call unshare(2) with the CLONE_NEWPID flag only once". The
        // kernel refuses while the caller's pid_for_children is not its own
        // PID namespace (kernel/pid_namespace.c, copy_pid_ns).
        Errno::EINVAL
            if name == "unshare"
                && has_word(call, "CLONE_NEWPID")
                && !has_word(call, "CLONE_NEWUSER") =>
        {
            Some(
                "this process's children already go to a new PID namespace \
                 (/proc/self/ns/pid_for_children is not /proc/self/ns/pid, or names none yet): it, or \
                 the program that started it without forking (`unshare --pid` without \
                 `--fork`), already called unshare(CLONE_NEWPID), which a process may do \
                 once (pid_namespaces(7)). Fork first and call it in the child, or run \
                 `unshare --pid --fork`"
                    .into(),
            )
        }
        // pid_namespaces(7), "The namespace init process": once PID 1 of a
        // PID namespace has terminated, "a subsequent fork(2) into this PID
        // namespace fail[s] with the error ENOMEM".
        Errno::ENOMEM if creates || matches!(name, "fork" | "vfork") => Some(
            "most likely PID 1 of the PID namespace this process's children are born in \
             (/proc/self/ns/pid_for_children) has exited, and no process can be born there \
             again (pid_namespaces(7)): keep the first child after unshare(CLONE_NEWPID) \
             alive while the namespace is in use. To have children in this process's own \
             namespace again: setns(fd of \"/proc/self/ns/pid\", CLONE_NEWPID)"
                .into(),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_unshare_of_a_pid_namespace_says_once_and_how_to_fork() {
        let text = hint("unshare(CLONE_NEWPID)", Errno::EINVAL).unwrap_or_default();
        assert!(text.contains("pid_for_children"), "{text}");
        assert!(text.contains("unshare --pid --fork"), "{text}");
        // With CLONE_NEWUSER, EINVAL is the threaded caller's (hint.rs).
        assert_eq!(
            hint("unshare(CLONE_NEWUSER | CLONE_NEWPID)", Errno::EINVAL),
            None
        );
        assert_eq!(hint("unshare(CLONE_NEWUTS)", Errno::EINVAL), None);
    }

    #[test]
    fn enomem_from_fork_or_clone_names_the_dead_pid_1() {
        for call in ["fork()", "clone(CLONE_NEWUTS | SIGCHLD)", "libc::fork()"] {
            let text = hint(call, Errno::ENOMEM).unwrap_or_default();
            assert!(text.contains("PID 1"), "{call}: {text}");
            assert!(text.contains("setns(fd of \"/proc/self/ns/pid\""), "{text}");
        }
        assert_eq!(hint("mount(\"proc\")", Errno::ENOMEM), None);
    }
}
