//! Hints for the refusals of time namespaces (chapter 13): writes to
//! `/proc/PID/timens_offsets`, and a kernel without time namespaces.

use nix::errno::Errno;

use super::{Kind, has_word, kind_of, too_old};
use crate::machine::Facts;

/// time_namespaces(7), NOTES: CONFIG_TIME_NS; the type is new in Linux 5.6.
const NEEDS: &str = "time namespaces need Linux 5.6 built with CONFIG_TIME_NS \
                     (time_namespaces(7))";

/// The hint for a time-namespace call, or `None` to let the general rules
/// decide.
pub(super) fn hint(call: &str, errno: Errno, facts: &Facts) -> Option<String> {
    let kind = kind_of(call)?;
    let offsets = call.contains("timens_offsets");
    // Our own files are missing only when the kernel lacks the type; another
    // process's are missing when it has exited (the general rules say so).
    let own_time_file = ["/proc/self/ns/time", "/proc/self/timens_offsets"]
        .iter()
        .any(|path| call.contains(path));
    match (kind, errno) {
        // unshare(2), EINVAL: "CLONE_NEWTIME ... not supported" on a kernel
        // without them (and CLONE_NEWUSER's thread rule, left to the caller).
        (Kind::Creates, Errno::EINVAL)
            if has_word(call, "CLONE_NEWTIME") && !has_word(call, "CLONE_NEWUSER") =>
        {
            Some(too_old(NEEDS, facts))
        }
        (Kind::Open | Kind::Write, Errno::ENOENT) if own_time_file => {
            Some(too_old(NEEDS, facts))
        }
        // time_namespaces(7), "/proc/PID/timens_offsets": writable only
        // until the first process is created in or enters the namespace.
        (Kind::Write | Kind::Open, Errno::EACCES) if offsets => Some(
            "a time namespace's offsets are frozen once a process is in it: write them \
             right after unshare(CLONE_NEWTIME), before any fork(2), clone(2) or \
             execve(2) (since Linux 6.2, execve moves the caller into time_for_children \
             too: commit \"fs/exec: switch timens when a task gets a new mm\"); the \
             namespace you start in, the host's, is always frozen"
                .into(),
        ),
        (Kind::Write, Errno::EINVAL) if offsets => Some(
            "a line is `<clock> <secs> <nanosecs>`: the clock `monotonic` (or 1) or \
             `boottime` (or 7), nanosecs at most 999999999; CLOCK_REALTIME cannot be \
             offset (time_namespaces(7), NOTES)"
                .into(),
        ),
        (Kind::Write | Kind::Open, Errno::EPERM) if offsets => Some(
            "writing offsets needs CAP_SYS_TIME in the user namespace that owns the time \
             namespace (time_namespaces(7)): run as root, or unshare(CLONE_NEWTIME) inside \
             a user namespace of your own"
                .into(),
        ),
        (Kind::Write, Errno::ERANGE) if offsets => Some(
            "the offset would make the clock negative in the namespace, or larger than \
             KTIME_SEC_MAX / 2 seconds (about 146 years; time_namespaces(7))"
                .into(),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hint::for_call_on;

    fn facts(kernel: (u32, u32)) -> Facts {
        Facts {
            kernel: Some(kernel),
            ..Facts::default()
        }
    }

    const WRITE: &str =
        "write(fd of \"/proc/self/timens_offsets\", \"monotonic 1 0\\n\")";

    #[test]
    fn a_late_write_says_before_the_first_fork() {
        let hint = for_call_on(WRITE, Errno::EACCES, &facts((6, 18)));
        assert!(hint.contains("before any fork(2)"), "{hint}");
    }

    #[test]
    fn a_realtime_offset_says_which_clocks() {
        let hint = for_call_on(WRITE, Errno::EINVAL, &facts((6, 18)));
        assert!(hint.contains("CLOCK_REALTIME cannot be offset"), "{hint}");
        assert!(hint.contains("`monotonic`"), "{hint}");
    }

    #[test]
    fn no_time_namespaces_names_linux_5_6() {
        let old = facts((5, 4));
        let hint = for_call_on("unshare(CLONE_NEWTIME)", Errno::EINVAL, &old);
        assert!(hint.contains("Linux 5.6"), "{hint}");
        assert!(hint.contains("this kernel is 5.4"), "{hint}");
        let link = "stat(\"/proc/self/ns/time_for_children\")";
        let hint = for_call_on(link, Errno::ENOENT, &old);
        assert!(hint.contains("Linux 5.6"), "{hint}");
        // Another process's link is missing because it has exited.
        let theirs = "open(\"/proc/42/ns/time\", O_RDONLY)";
        let hint = for_call_on(theirs, Errno::ENOENT, &facts((6, 18)));
        assert!(!hint.contains("Linux 5.6"), "{hint}");
        assert!(hint.contains("no process has that PID"), "{hint}");
    }

    #[test]
    fn other_calls_are_left_to_the_general_rules() {
        assert_eq!(
            hint("unshare(CLONE_NEWUTS)", Errno::EINVAL, &facts((6, 18))),
            None
        );
        assert!(
            for_call_on(WRITE, Errno::EPERM, &facts((6, 18)))
                .contains("CAP_SYS_TIME")
        );
    }
}
