//! Hints for the cgroup calls of chapter 12: making a cgroup (a mkdir(2) in
//! a cgroup filesystem, here through mkdtemp(3)) and moving a process by
//! writing its PID to `cgroup.procs`.

use nix::errno::Errno;

/// The hint for `call` failing with `errno`, if it is a cgroup call.
pub(super) fn hint(call: &str, errno: Errno) -> Option<String> {
    let name = call.split('(').next().unwrap_or_default();
    let in_cgroupfs = call.contains("/sys/fs/cgroup");
    match (name, errno) {
        // cgroups(7), "Cgroups v2 delegation": creating a cgroup needs write
        // permission on the parent cgroup's directory; without root, only
        // in a subtree delegated to you (its directory chowned to you).
        ("mkdtemp" | "mkdir", Errno::EACCES | Errno::EPERM) if in_cgroupfs => Some(
            "creating a cgroup needs write permission on the parent cgroup's directory: \
             run as root, or in a subtree delegated to you (cgroups(7), \"Cgroups v2 \
             delegation\"), e.g. `systemd-run --user --scope -p Delegate=yes cargo run \
             -p ch12-cgroup-namespaces` on a systemd machine with cgroup v2"
                .into(),
        ),
        ("mkdtemp" | "mkdir", Errno::EROFS) if in_cgroupfs => Some(
            "the cgroup filesystem is mounted read-only here (a container?): run on the \
             host, or in a container given a writable cgroup (e.g. podman's \
             `--cgroupns=private`)"
                .into(),
        ),
        // cgroups(7), "Cgroup delegation containment rules": the writer
        // needs write permission on cgroup.procs of the destination and of
        // the nearest common ancestor of the source and destination (v2
        // asks nothing about the target's uid; the uid rule is v1's).
        ("write", Errno::EACCES | Errno::EPERM) if call.contains("cgroup.procs") => Some(
            "moving a process needs write permission on the destination cgroup's \
             cgroup.procs and on the cgroup.procs of the nearest common ancestor of its \
             old and new cgroups: run as root, or move it within a subtree delegated to \
             you (cgroups(7), \"Cgroup delegation containment rules\")"
                .into(),
        ),
        // cgroups(7), nsdelegate: a cgroup namespace is then a delegation
        // boundary, and no move may cross its root from inside.
        ("write", Errno::ENOENT) if call.contains("cgroup.procs") => Some(
            "with cgroup2 mounted `nsdelegate` (as systemd does), a process in a cgroup \
             namespace may not move processes across the namespace's root (cgroups(7)); \
             move it from outside, or through a cgroup.procs opened before the unshare"
                .into(),
        ),
        ("write", Errno::EBUSY | Errno::EOPNOTSUPP) if call.contains("cgroup.procs") => {
            Some(
                "cgroup v2 refuses processes in a cgroup whose controllers are given to \
                 its children (the \"no internal processes\" rule, cgroups(7)): make the \
                 cgroup under one whose cgroup.subtree_control is empty"
                    .into(),
            )
        }
        ("rmdir", Errno::EBUSY) if in_cgroupfs => Some(
            "a cgroup with processes or child cgroups cannot be removed: move its \
             processes to the parent's cgroup.procs first (cgroups(7))"
                .into(),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_calls_get_their_own_hints() {
        let mkdir = "mkdtemp(\"/sys/fs/cgroup/unified/ch12.1.2.3.XXXXXX\")";
        let text = hint(mkdir, Errno::EACCES).unwrap_or_default();
        assert!(text.contains("delegated"), "{text}");
        let write = "write(fd of \"/sys/fs/cgroup/a/cgroup.procs\", \"0\")";
        let text = hint(write, Errno::ENOENT).unwrap_or_default();
        assert!(text.contains("nsdelegate"), "{text}");
        let text = hint(write, Errno::EACCES).unwrap_or_default();
        assert!(text.contains("nearest common ancestor"), "{text}");
        assert!(text.contains("destination cgroup's cgroup.procs"), "{text}");
        assert!(!text.contains("signal"), "v2 has no uid rule: {text}");
        assert_eq!(hint("mkdtemp(\"/tmp/ch02.XXXXXX\")", Errno::EACCES), None);
        assert_eq!(hint("unshare(CLONE_NEWCGROUP)", Errno::ENOSPC), None);
    }
}
