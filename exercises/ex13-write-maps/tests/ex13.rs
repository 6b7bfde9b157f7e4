//! The checks of exercise 13: `cargo test -p ex13-write-maps`.
//!
//! Each case runs your code in a fresh process, as root and as an
//! unprivileged user: that one is a plain uid 65534 (or your own user), not
//! root of any user namespace, as a learner running chapter 7 is. The case
//! forks a child that unshares a user namespace and waits; your code writes
//! its maps; the checks read the child's `/proc/PID/{uid_map,gid_map,
//! setgroups}` from outside.

use std::process::ExitCode;

use ex13_write_maps as ex;
use nix::errno::Errno;
use nix::sched::{CloneFlags, unshare};
use nix::unistd::{Pid, getegid, geteuid};
use testkit::exercise::{
    self, Case, Outcome, Parked, Probe, ensure, report, sentence, setup,
};

pub fn main() -> ExitCode {
    exercise::main(
        "ex13",
        &[
            Case::new("maps_root_to_your_own_ids", maps)
                .as_is()
                .check(mapped),
            Case::new("a_second_call_returns_the_kernels_refusal", twice).as_is(),
        ],
    )
}

/// A child in a new user namespace, waiting for its maps.
fn child_in_new_user_namespace() -> Result<Parked, String> {
    Parked::spawn(|| {
        setup("unshare(CLONE_NEWUSER)", unshare(CloneFlags::CLONE_NEWUSER))
    })
}

/// `/proc/PID/<file>`, one line, as this process reads it.
fn proc_file(pid: Pid, file: &str) -> Result<String, String> {
    let path = format!("/proc/{pid}/{file}");
    std::fs::read_to_string(&path)
        .map(|text| text.split_whitespace().collect::<Vec<_>>().join(" "))
        .map_err(|e| format!("could not read {path}: {e}"))
}

/// The learner's error, said as the mistake it most likely is.
fn explain(pid: Pid, err: workbook::Error) -> String {
    let whole = err.to_string();
    let text = whole.strip_prefix("error: ").unwrap_or(&whole);
    // The failed call, without its hint.
    let failed = sentence(&err);
    let gid_map = proc_file(pid, "gid_map").unwrap_or_default();
    let setgroups = proc_file(pid, "setgroups").unwrap_or_default();
    let eperm = err.errno() == Some(Errno::EPERM);
    if failed.contains("/proc/self/") {
        return format!(
            "map_child_root wrote /proc/self/...: the maps to write are the child's, \
             /proc/{pid}/uid_map and /proc/{pid}/gid_map (error: {text})"
        );
    }
    if eperm && failed.contains("setgroups") && !gid_map.is_empty() {
        return format!(
            "map_child_root wrote \"deny\" to /proc/{pid}/setgroups after gid_map: the kernel \
             refuses that (EPERM), since the child could already have used setgroups(2). \
             \"deny\" comes first (error: {text})"
        );
    }
    if eperm
        && gid_map.is_empty()
        && setgroups == "allow"
        && failed.contains("gid_map")
    {
        return format!(
            "map_child_root failed with EPERM while /proc/{pid}/setgroups still said \"allow\": \
             without CAP_SETGID in the parent user namespace the kernel refuses gid_map \
             until \"deny\" is written to setgroups; write that first (error: {text})"
        );
    }
    let uid_map = proc_file(pid, "uid_map").unwrap_or_default();
    if eperm && uid_map.is_empty() && failed.contains("uid_map") {
        return format!(
            "the kernel refused the uid_map line (EPERM): without CAP_SETUID in the parent \
             user namespace, the one line allowed maps your own uid, \"0 {} 1\" (error: \
             {text})",
            geteuid()
        );
    }
    format!("map_child_root({pid}, ...) returned an error: {text}")
}

fn maps() -> Outcome {
    let child = child_in_new_user_namespace()?;
    let pid = child.pid();
    let (uid, gid) = (geteuid(), getegid());
    report("mapped", pid);
    report("uid", uid);
    report("gid", gid);
    ex::map_child_root(pid, uid, gid).map_err(|err| explain(pid, err))?;
    exercise::park();
    child.finish()
}

fn mapped(p: &Probe) -> Outcome {
    let pid = p.pid("mapped")?;
    let (uid, gid) = (p.get("uid")?, p.get("gid")?);
    let uid_map = proc_file(pid, "uid_map")?;
    let gid_map = proc_file(pid, "gid_map")?;
    let setgroups = proc_file(pid, "setgroups")?;
    ensure(!uid_map.is_empty(), || {
        format!(
            "the child's /proc/{pid}/uid_map is empty: no uid map was written for it (its \
             files, not /proc/self/...)"
        )
    })?;
    ensure(uid_map == format!("0 {uid} 1"), || {
        format!(
            "the child's uid_map reads \"{uid_map}\", not \"0 {uid} 1\": uid 0 inside must \
             stand for your own uid {uid} outside, one id"
        )
    })?;
    ensure(!gid_map.is_empty(), || {
        match setgroups.as_str() {
        "deny" => "the child's gid_map is empty, though setgroups says \"deny\": was \
                   gid_map written before \"deny\", and its EPERM ignored? Write \"deny\" \
                   first, then gid_map, and return every error"
            .into(),
        _ => format!(
            "the child's /proc/{pid}/gid_map is empty: write \"0 {gid} 1\" there"
        ),
    }
    })?;
    ensure(gid_map == format!("0 {gid} 1"), || {
        format!(
            "the child's gid_map reads \"{gid_map}\", not \"0 {gid} 1\": gid 0 inside must \
             stand for your own gid {gid} outside"
        )
    })
}

/// Both calls on one child: the second must come back as an error.
fn twice() -> Outcome {
    let child = child_in_new_user_namespace()?;
    let pid = child.pid();
    let (uid, gid) = (geteuid(), getegid());
    ex::map_child_root(pid, uid, gid).map_err(|err| explain(pid, err))?;
    let again = ex::map_child_root(pid, uid, gid);
    ensure(again.is_err(), || {
        "map_child_root returned Ok when called a second time on the same child, yet the \
         kernel refuses a second write of a map (EPERM): return each write's error \
         instead of ignoring it"
            .into()
    })?;
    child.finish()
}
