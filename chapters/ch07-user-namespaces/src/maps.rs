//! The parent writes its child's maps: the rules of user_namespaces(7),
//! "Defining user and group ID mappings: writing to uid_map and gid_map".
//!
//! - Each line is `ID-INSIDE ID-OUTSIDE LENGTH`: `0 100000 65536` makes ids
//!   0..65535 inside stand for 100000..165535 in the writer's namespace.
//! - A writer with CAP_SETUID (CAP_SETGID) in the parent user namespace may
//!   map any range of ids that are mapped there. Without it, one line
//!   only, mapping its own effective id.
//! - Without CAP_SETGID in the parent, `gid_map` may be written only after
//!   `deny` went to `/proc/PID/setgroups` (since Linux 3.19): otherwise the
//!   child could drop a group with setgroups(2) that denies it a file.
//! - Each map is written once, in one write(2): a second write gives EPERM.
//!   A refused write does not count: the map can still be written.
//!
//! Root runs the privileged branch; anyone else meets each refusal first,
//! as a learner would, then does it right. Root of a user namespace whose
//! own map is small (`unshare -r`) has the capabilities but not the range,
//! and maps its own ids.

use nix::errno::Errno;
use nix::unistd::{Gid, Pid, Uid};
use workbook::userns::write_proc;
use workbook::{Error, Result, say};

/// The range root maps: 65536 ids from 100000, as /etc/subuid often gives.
const RANGE: &str = "0 100000 65536";
const RANGE_START: u64 = 100000;
const RANGE_LEN: u64 = 65536;

/// CAP_SETUID is bit 7, CAP_SETGID bit 6 of CapEff (capabilities(7)).
const SETUID_SETGID: u64 = (1 << 7) | (1 << 6);

// ANCHOR: write
/// Write the child's `uid_map` and `gid_map` (and `setgroups` when needed).
pub(crate) fn write(child: Pid, uid: Uid, gid: Gid) -> Result<()> {
    let me = std::process::id();
    let uid_map = format!("/proc/{child}/uid_map");
    let gid_map = format!("/proc/{child}/gid_map");
    let setgroups = format!("/proc/{child}/setgroups");
    let (own_uid, own_gid) = (format!("0 {uid} 1"), format!("0 {gid} 1"));
    match Writer::here()? {
        Writer::AnyRange => {
            // CAP_SETUID and CAP_SETGID here: a range, and setgroups may
            // stay "allow".
            write_proc(&uid_map, RANGE)?;
            write_proc(&gid_map, RANGE)?;
            say!(
                "process {me} (parent): write(fd of \"{uid_map}\", \"{RANGE}\"), the same \
                 to gid_map -> ok: with CAP_SETUID and CAP_SETGID here, any range; \
                 setgroups stays \"allow\""
            );
        }
        Writer::OwnIdsOnly => {
            refused(
                &uid_map,
                RANGE,
                "without CAP_SETUID here, a process may map only its own uid, in one line",
            )?;
            write_proc(&uid_map, &own_uid)?;
            say!(
                "process {me} (parent): write(fd of \"{uid_map}\", \"{own_uid}\") -> ok"
            );
            refused(
                &gid_map,
                &own_gid,
                "setgroups still says \"allow\": without CAP_SETGID here, gid_map comes \
                 after \"deny\"",
            )?;
            write_proc(&setgroups, "deny")?;
            write_proc(&gid_map, &own_gid)?;
            say!(
                "process {me} (parent): write(fd of \"{setgroups}\", \"deny\"), then \
                 write(fd of \"{gid_map}\", \"{own_gid}\") -> ok"
            );
        }
        Writer::CapsButNoRange => {
            // Root of a user namespace with a small map (`unshare -r`, a
            // container): a map may name only ids mapped here.
            write_proc(&uid_map, &own_uid)?;
            write_proc(&setgroups, "deny")?;
            write_proc(&gid_map, &own_gid)?;
            say!(
                "process {me} (parent): CAP_SETUID here, but ids 100000 to 165535 have no \
                 mapping in this user namespace (/proc/self/uid_map), so no range: \
                 write(fd of \"{uid_map}\", \"{own_uid}\"), \"deny\" to setgroups, \
                 \"{own_gid}\" to gid_map -> ok"
            );
        }
    }
    let map = super::read_proc(&uid_map)?;
    let map = map.split_whitespace().collect::<Vec<_>>().join(" ");
    refused(&uid_map, &map, "a map is written once")?;
    Ok(())
}
// ANCHOR_END: write

/// What this process may write in a child's maps.
enum Writer {
    /// CAP_SETUID and CAP_SETGID, and the range's ids are mapped here.
    AnyRange,
    /// Neither capability: only its own ids, `deny` before gid_map.
    OwnIdsOnly,
    /// The capabilities, but the range names ids that have no mapping in
    /// this user namespace ("The mapped user IDs (group IDs) must in turn
    /// have a mapping in the parent user namespace", user_namespaces(7)).
    CapsButNoRange,
}

impl Writer {
    fn here() -> Result<Writer> {
        let status = super::read_proc("/proc/self/status")?;
        let caps = status
            .lines()
            .find_map(|line| line.strip_prefix("CapEff:"))
            .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
            .ok_or_else(|| {
                Error::refused(
                    "no CapEff: line in /proc/self/status",
                    "is /proc mounted? (mount -t proc proc /proc)",
                )
            })?;
        if caps & SETUID_SETGID != SETUID_SETGID {
            return Ok(Writer::OwnIdsOnly);
        }
        let covered = |path: &str| -> Result<bool> {
            Ok(covers(&super::read_proc(path)?, RANGE_START, RANGE_LEN))
        };
        match covered("/proc/self/uid_map")? && covered("/proc/self/gid_map")? {
            true => Ok(Writer::AnyRange),
            false => Ok(Writer::CapsButNoRange),
        }
    }
}

/// Whether one line of a map (`INSIDE OUTSIDE COUNT`) covers the ids
/// `start..start + len` of this namespace.
fn covers(map: &str, start: u64, len: u64) -> bool {
    map.lines().any(|line| {
        let mut fields = line.split_whitespace().map(str::parse::<u64>);
        match (fields.next(), fields.next(), fields.next()) {
            (Some(Ok(inside)), Some(Ok(_)), Some(Ok(count))) => {
                inside <= start && start + len <= inside + count
            }
            _ => false,
        }
    })
}

/// A write the kernel must refuse with EPERM: say so, with the rule.
fn refused(path: &str, text: &str, rule: &str) -> Result<()> {
    let me = std::process::id();
    let call = format!("write(fd of \"{path}\", \"{text}\")");
    match write_proc(path, text) {
        Err(err) if err.errno() == Some(Errno::EPERM) => {
            say!("process {me} (parent): {call} -> EPERM: {rule}");
            Ok(())
        }
        Err(err) => Err(err),
        Ok(()) => Err(Error::refused(
            format!(
                "{call} was accepted, though the kernel should refuse it: {rule}"
            ),
            "",
        )),
    }
}
