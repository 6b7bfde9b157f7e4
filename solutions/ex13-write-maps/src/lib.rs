//! Exercise 13 (chapter 7, user namespaces): a parent writes its child's maps.
//!
//! Write [`map_child_root`]. Process `child` has just entered a new user
//! namespace and waits, as chapter 7's child does; no map is written yet, so
//! inside it is the overflow uid. Make uid 0 and gid 0 inside it stand for
//! `uid` and `gid`, the caller's own ids, outside: one line `0 UID 1` in
//! `/proc/CHILD/uid_map`, one `0 GID 1` in `/proc/CHILD/gid_map`. It must
//! work for root and for a user without privilege.
//!
//! Read: user_namespaces(7), "Defining user and group ID mappings: writing
//! to uid_map and gid_map" and "Interaction with system calls that change
//! process UIDs or GIDs" (the setgroups file).
//!
//! The trap: without CAP_SETGID in the parent user namespace (any user but
//! root), the kernel refuses gid_map (EPERM) while `/proc/CHILD/setgroups`
//! still says `allow`: write `deny` there first. Root passes either way, so
//! an answer tried only as root looks right. Also: the files are the
//! child's, not `/proc/self/...`; each map takes one write(2) of the whole
//! line, and only one: a second write fails with EPERM, and so does any
//! line but your own id for a user without privilege. Return the kernel's
//! error rather than ignoring it.
//!
//! Errors come back as `workbook::Error`, never as a panic:
//! `workbook::userns::write_proc(path, text)` writes a /proc file in one
//! write(2) and returns an error naming the call.
//!
//! Check your work with `cargo test -p ex13-write-maps` (the root cases too:
//! `cargo test-root -p ex13-write-maps`); stuck, `cargo workbook hint ex13`.
//! The check, not the solution, is the teacher: it says what is still
//! wrong. The answer is in `solutions/ex13-write-maps/src/`; `cargo workbook
//! solution ex13` shows it once this exercise passes.
// STUB: #![allow(unused_imports)] // some imports are for the code you will write

use nix::unistd::{Gid, Pid, Uid};
use workbook::Result;
use workbook::userns::write_proc;

/// Map uid 0 and gid 0 of `child`'s new user namespace to `uid` and `gid`.
pub fn map_child_root(child: Pid, uid: Uid, gid: Gid) -> Result<()> {
    // STUB: todo!("0 to {uid}, {gid}: /proc/{child}/setgroups, uid_map, gid_map; order?")
    // BEGIN SOLUTION
    // `deny` first: without CAP_SETGID in our user namespace, gid_map is
    // refused while setgroups(2) is still allowed in the child's.
    write_proc(&format!("/proc/{child}/setgroups"), "deny")?;
    write_proc(&format!("/proc/{child}/uid_map"), &format!("0 {uid} 1"))?;
    write_proc(&format!("/proc/{child}/gid_map"), &format!("0 {gid} 1"))
    // END SOLUTION
}
