//! Running the lessons without root.
//!
//! user_namespaces(7): an unprivileged process may create a user namespace,
//! and inside it holds every capability over the namespaces it then creates.
//! So a learner who is not root runs each example inside a user namespace the
//! example creates first; the rest of the lesson is the same.
//!
//! The order matters. After unshare(CLONE_NEWUSER) the process is "nobody"
//! until its maps are written: `deny` to `/proc/self/setgroups` first (an
//! unprivileged gid_map write is refused while setgroups(2) is allowed), then
//! `0 <uid> 1` to `uid_map` and `0 <gid> 1` to `gid_map`: the learner's own
//! ids become root inside.
//!
//! The trap: on Ubuntu 23.10+ AppArmor lets unshare(CLONE_NEWUSER) succeed
//! but denies every capability in the new namespace. The first step that
//! needs one fails, and in this order that is opening `/proc/self/setgroups`
//! for writing (CAP_SYS_ADMIN in the namespace; EACCES), not the uid_map
//! write (EPERM) that util-linux, which writes uid_map first, reports.

use std::fs::OpenOptions;
use std::io::Write;

use nix::sched::{CloneFlags, unshare};
use nix::unistd::{getegid, geteuid};

use crate::error::{Context, Error, Result};
use crate::machine;
use crate::ns::NsId;

/// True when the effective capability set holds CAP_SYS_ADMIN, the one that
/// unshare, setns, sethostname and mount check. Read from `CapEff` in
/// `/proc/self/status` (proc(5)): root in a container may lack it.
pub fn has_cap_sys_admin() -> bool {
    machine::has_cap_sys_admin()
}

/// If the process lacks CAP_SYS_ADMIN, move it into a new user namespace in
/// which it is root, announce that in one line, and return the new user
/// namespace. With the capability already, do nothing and return `None`.
///
/// Call it first thing in `main`, while the process has one thread: the
/// kernel refuses CLONE_NEWUSER to a multi-threaded caller (EINVAL).
pub fn enter_if_unprivileged() -> Result<Option<NsId>> {
    if has_cap_sys_admin() {
        return Ok(None);
    }
    let uid = geteuid();
    let gid = getegid();
    let before = NsId::current("user")?;

    unshare(CloneFlags::CLONE_NEWUSER).call(|| "unshare(CLONE_NEWUSER)".into())?;
    let user_ns = NsId::current("user")?;
    crate::ns::ensure_new(before, user_ns)?;

    write_proc("/proc/self/setgroups", "deny")?;
    write_proc("/proc/self/uid_map", &format!("0 {uid} 1"))?;
    write_proc("/proc/self/gid_map", &format!("0 {gid} 1"))?;

    crate::say!(
        "not root (uid {uid}): entered a new user namespace {user_ns} as its root \
         (uid_map \"0 {uid} 1\"); the namespaces below belong to it"
    );
    Ok(Some(user_ns))
}

/// One write(2) of the whole text, as these /proc files demand. The error
/// names the call that failed: the kernel checks setgroups at open(2) and
/// the maps at write(2) (user_namespaces(7)). Public for chapter 7, whose
/// parent writes its child's maps.
pub fn write_proc(path: &str, text: &str) -> Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .open(path)
        .call(|| format!("open(\"{path}\", O_WRONLY)"))?;
    let written = file
        .write(text.as_bytes())
        .call(|| format!("write(fd of \"{path}\", \"{text}\")"))?;
    if written != text.len() {
        return Err(Error::refused(
            format!(
                "write(fd of \"{path}\", \"{text}\") wrote {written} bytes, not all"
            ),
            "these /proc files take the whole text in one write(2) (user_namespaces(7))",
        ));
    }
    Ok(())
}
