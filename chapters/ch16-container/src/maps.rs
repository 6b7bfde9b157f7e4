//! The parent writes the container's uid_map and gid_map (chapter 7), and
//! the child becomes the root they define.
//!
//! Which ids? Anyone but root may map only their own id, one line, after
//! `deny` to setgroups (user_namespaces(7), "Defining user and group ID
//! mappings: writing to uid_map and gid_map"): the container's root is the
//! user who ran it, and no more.
//!
//! Root could map `0 0 1`, and the container's root would be the host's
//! root: a process that escaped the container's mounts (a bug, a leaked
//! fd) would act on host files as root. So root maps the container's root
//! to uid and gid 100000, one id only: no account of a stock system. The
//! trap: where /etc/subuid hands out ranges, 100000 is usually the first
//! subordinate id of the first user, uid 1 of their rootless containers,
//! whose processes could then signal or ptrace this one's. A real runtime
//! maps to ids it has reserved for itself (its own /etc/subuid range). Root's own
//! supplementary groups would still follow the child in (setgroups(2)
//! does not change with a map); root leaves setgroups "allow", and the
//! child drops them all with setgroups(0, NULL) before it becomes uid 0.

use nix::sys::prctl;
use nix::unistd::{Gid, Pid, Uid, getegid, geteuid, setgid, setgroups, setuid};
use workbook::error::Context;
use workbook::userns::write_proc;
use workbook::{Error, Result};

/// The host id that root maps the container's root to.
pub const ROOT_MAPS_TO: u32 = 100000;

/// CAP_SETUID is bit 7, CAP_SETGID bit 6 of CapEff (capabilities(7)).
const SETUID_SETGID: u64 = (1 << 7) | (1 << 6);

// ANCHOR: write
/// Write the child's maps; returns the `uid_map` line, for the story.
pub fn write(child: Pid) -> Result<String> {
    let (uid, gid) = (geteuid(), getegid());
    let setgroups = format!("/proc/{child}/setgroups");
    let (uid_line, gid_line) = match privileged()? {
        // Root with CAP_SETUID and CAP_SETGID, and 100000 mapped here.
        true => (format!("0 {ROOT_MAPS_TO} 1"), format!("0 {ROOT_MAPS_TO} 1")),
        false => {
            write_proc(&setgroups, "deny")?;
            (format!("0 {uid} 1"), format!("0 {gid} 1"))
        }
    };
    write_proc(&format!("/proc/{child}/uid_map"), &uid_line)?;
    write_proc(&format!("/proc/{child}/gid_map"), &gid_line)?;
    Ok(uid_line)
}
// ANCHOR_END: write

/// Root of this user namespace, with the capabilities to map another id,
/// and that id mapped here ("The mapped user IDs (group IDs) must in turn
/// have a mapping in the parent user namespace", user_namespaces(7)). Root
/// of a small user namespace (`unshare -r`) maps its own id, as anyone.
fn privileged() -> Result<bool> {
    if !geteuid().is_root() {
        return Ok(false);
    }
    let status = read("/proc/self/status")?;
    let caps = status
        .lines()
        .find_map(|line| line.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .ok_or_else(|| Error::refused("no CapEff: line in /proc/self/status", ""))?;
    Ok(caps & SETUID_SETGID == SETUID_SETGID
        && covers(&read("/proc/self/uid_map")?, ROOT_MAPS_TO)
        && covers(&read("/proc/self/gid_map")?, ROOT_MAPS_TO))
}

/// Whether a map (`INSIDE OUTSIDE COUNT` lines) maps `id` of this namespace.
fn covers(map: &str, id: u32) -> bool {
    map.lines().any(|line| {
        let mut fields = line.split_whitespace().map(str::parse::<u64>);
        match (fields.next(), fields.next(), fields.next()) {
            (Some(Ok(inside)), Some(Ok(_)), Some(Ok(count))) => {
                inside <= u64::from(id) && u64::from(id) < inside + count
            }
            _ => false,
        }
    })
}

fn read(path: &str) -> Result<String> {
    std::fs::read_to_string(path).call(|| format!("read(fd of \"{path}\")"))
}

// ANCHOR: become_root
/// In the child, once the maps are written: drop the supplementary groups
/// if setgroups(2) is still allowed (root's run), then become gid and uid 0
/// of the namespace. Returns what it did, for the story.
pub fn become_root() -> Result<String> {
    let mut done = Vec::new();
    if read("/proc/self/setgroups")?.trim() == "allow" {
        setgroups(&[]).call(|| "setgroups(0, NULL)".into())?;
        done.push("setgroups(0, NULL)");
    }
    // setuid(2): a mapping for 0 must exist (EINVAL otherwise). Changing
    // the uid keeps the capabilities here: 0 is root of this namespace.
    setgid(Gid::from_raw(0)).call(|| "setgid(0)".into())?;
    setuid(Uid::from_raw(0)).call(|| "setuid(0)".into())?;
    done.extend(["setgid(0)", "setuid(0)"]);
    // Root's child changed its uid (0 to 100000 on the host), which makes
    // it non-dumpable (prctl(2), PR_SET_DUMPABLE): its /proc/self files
    // then belong to the host's root, unmapped here, and a write to
    // /proc/self/timens_offsets fails with EACCES. Dumpable again: then
    // a process of host uid 100000 may ptrace it (this container's, or one
    // with that id elsewhere: see the trap above).
    if !prctl::get_dumpable().call(|| "prctl(PR_GET_DUMPABLE)".into())? {
        prctl::set_dumpable(true).call(|| "prctl(PR_SET_DUMPABLE, 1)".into())?;
        done.push("prctl(PR_SET_DUMPABLE, 1)");
    }
    Ok(done.join(", "))
}
// ANCHOR_END: become_root
