//! Exercise 23 (chapter 12, cgroup namespaces): a cgroup path as the
//! namespace shows it.
//!
//! Write [`seen_from`]: given the root of a cgroup namespace and a cgroup,
//! both as paths from the hierarchy's real root (what `/proc/PID/cgroup`
//! shows outside any cgroup namespace, e.g. `/a/b` and `/a/c`), return the
//! path a process in that namespace reads in `/proc/PID/cgroup` for that
//! cgroup: `/` for the root itself, `/rest` below it, and for a cgroup
//! outside it, one `..` per level up to the nearest common ancestor, then
//! down: `/a/c` seen from `/a/b` is `/../c`.
//!
//! Read: cgroup_namespaces(7) (its example shows `/..`), cgroups(7)
//! ("/proc/pid/cgroup").
//!
//! The trap: paths are compared by whole components, not as strings. `/a/bc`
//! starts with the text `/a/b`, yet it is not below `/a/b`: the kernel shows
//! it as `/../bc`, never `/c`.
//!
//! The check unshares a cgroup namespace and compares your answer, for
//! every line of `/proc/PID/cgroup` of a few processes, with what the kernel
//! shows from inside.
//!
//! Check your work with `cargo test -p ex23-cgroup-relative` (the root cases
//! too: `cargo test-root -p ex23-cgroup-relative`); stuck, `cargo workbook
//! hint ex23`. The answer is in `solutions/ex23-cgroup-relative/src/`;
//! `cargo workbook solution ex23` shows it once this exercise passes.

/// How a process whose cgroup namespace's root is the cgroup `root` sees the
/// cgroup `cgroup` (both absolute, from the hierarchy's real root).
pub fn seen_from(root: &str, cgroup: &str) -> String {
    todo!("the path of {cgroup:?} as a namespace rooted at {root:?} shows it")
}
