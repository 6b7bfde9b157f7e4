//! The checks of exercise 31: `cargo test -p ex31-userns-first`.
//!
//! Each case runs your code in a fresh process, as root and as uid 65534
//! with no privilege at all (no user namespace of the harness's: making one
//! is your job). `body` reports what the kernel tells it: its uid and PID,
//! its namespaces, and which user namespace owns its UTS namespace
//! (ioctl(NS_GET_USERNS), ioctl_ns(2)). The checks judge that.

use std::fs::File;
use std::process::ExitCode;

use ex31_userns_first as ex;
use nix::errno::Errno;
use nix::unistd::{getpid, getuid};
use testkit::exercise::{
    self, Case, Outcome, Report, call, ensure, report, report_ns, setup,
};
use workbook::ns::NsId;
use workbook::nsfs;

pub fn main() -> ExitCode {
    exercise::main(
        "ex31",
        &[Case::new(
            "body_is_root_and_pid_1_in_namespaces_its_user_ns_owns",
            spawns,
        )
        .as_is()
        .after(judged)],
    )
}

fn spawns() -> Outcome {
    for ns_type in ["user", "uts", "pid"] {
        let id = setup("reading /proc/self/ns", NsId::current(ns_type))?;
        report_ns(&format!("start_{ns_type}"), id);
    }
    let child = call(
        "spawn(body)",
        ex::spawn(|| {
            report("uid", getuid());
            report("pid", getpid());
            report_ns("user", NsId::current("user")?);
            report_ns("uts", NsId::current("uts")?);
            report_ns("pid_ns", NsId::current("pid")?);
            let uts = File::open("/proc/self/ns/uts").map_err(|e| e.to_string())?;
            // ioctl_ns(2): EPERM when the owner is above the caller's
            // user namespace, out of its sight.
            match nsfs::owner_id(&uts, "fd of /proc/self/ns/uts") {
                Ok(owner) => report_ns("uts_owner", owner),
                Err(err) if err.errno() == Some(Errno::EPERM) => {
                    report("uts_owner_above", "yes")
                }
                Err(err) => return Err(err),
            }
            Ok(())
        }),
    )?;
    call("waiting for the child that spawn returned", child.wait())
}

fn judged(r: &Report) -> Outcome {
    let Ok(uid) = r.get("uid") else {
        return Err(
            "body was never run: spawn must run it in the process it starts".into(),
        );
    };
    let (user, uts, pid_ns) = (r.ns("user")?, r.ns("uts")?, r.ns("pid_ns")?);
    ensure(user != r.ns("start_user")?, || {
        format!(
            "body ran in the caller's user namespace {user}: create a new one first \
             (unshare(CLONE_NEWUSER) in the child)"
        )
    })?;
    ensure(uts != r.ns("start_uts")?, || {
        format!(
            "body ran in the caller's UTS namespace {uts}: create a new one (CLONE_NEWUTS)"
        )
    })?;
    ensure(r.get("uts_owner_above").is_err(), || {
        format!(
            "body's UTS namespace {uts} belongs to a user namespace above its own {user}: a \
             namespace belongs to the user namespace its creator was in at that moment, so \
             create the user namespace first"
        )
    })?;
    let owner = r.ns("uts_owner")?;
    ensure(owner == user, || {
        format!(
            "body's UTS namespace {uts} belongs to {owner}, not to its user namespace {user}: \
             a namespace belongs to the user namespace its creator was in at that moment, so \
             create the user namespace first"
        )
    })?;
    ensure(pid_ns != r.ns("start_pid")?, || {
        format!(
            "body ran in the caller's PID namespace {pid_ns}: unshare(CLONE_NEWPID), then fork; \
             the caller itself never moves"
        )
    })?;
    let pid = r.get("pid")?;
    ensure(pid == "1", || {
        format!(
            "body ran as PID {pid} of a new PID namespace, not PID 1: run it in the first \
             child forked after unshare(CLONE_NEWPID)"
        )
    })?;
    ensure(uid == "0", || {
        match uid {
        "65534" => "body ran as uid 65534, the overflow uid: its user namespace had no uid_map \
                    yet. The parent writes /proc/PID/uid_map and gid_map; the child waits on a \
                    pipe until it has"
            .into(),
        _ => format!(
            "body ran as uid {uid}, not 0: map 0 inside to the parent's own uid (\"0 UID 1\")"
        ),
    }
    })
}
