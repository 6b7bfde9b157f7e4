//! Chapter 5: joining several namespaces at once, through a pidfd.
//!
//! pidfd_open(2) gives a file descriptor that refers to a process itself (a
//! "pidfd"), not to one of its namespaces. Given a pidfd, setns(2) reads its
//! second argument as a bitmask: every CLONE_NEW* flag set names one of that
//! process's namespaces to join, all in one call. And the call is atomic:
//! either the caller ends up in every namespace asked for, or in none.
//!
//! Without arguments the example starts its own target (a child parked in a
//! new UTS and a new network namespace, hostname "ch05-target"), shows a call
//! that fails and leaves it in none of the namespaces, then joins both with
//! setns(pidfd, CLONE_NEWUTS | CLONE_NEWNET). With a PID it joins that
//! process's UTS and network namespaces.
//!
//! The slides' note "Can only set a multiple namespaces per netns(2)
//! invocation" means: setns(2) ("netns(2)" is a typo) can join several
//! namespaces in one call, with a pidfd only. A `/proc/PID/ns/*` file names
//! one namespace, so it joins one per call (chapter 4).
//!
//! Versions: pidfd_open(2) exists since Linux 5.3, setns(2) with a pidfd
//! since 5.8.
//!
//! Read: pidfd_open(2), setns(2), namespaces(7), user_namespaces(7).

use std::os::fd::OwnedFd;
use std::process::ExitCode;

use nix::errno::Errno;
use nix::sched::{CloneFlags, setns};
use nix::unistd::Pid;
use rustix::process::{PidfdFlags, pidfd_open};
use workbook::cli::{self, Args};
use workbook::error::Context;
use workbook::ns::{self, NsId, Proc};
use workbook::say;
use workbook::target::Target;
use workbook::userns;
use workbook::{Error, Result};

const USAGE: &str = "\
Usage: ch05-join-pidfd [PID]

Joins a UTS and a network namespace in one setns(2) call, through a pidfd
from pidfd_open(2) (Linux 5.8 or newer).

Without PID: starts a target process in a new UTS and a new network namespace
with the hostname \"ch05-target\" and opens a pidfd for it. First it asks
setns(pidfd, CLONE_NEWUTS | CLONE_NEWUSER | CLONE_NEWNET): the user namespace
cannot be joined (it is our own), so the call fails and joins none of the
three. Then setns(pidfd, CLONE_NEWUTS | CLONE_NEWNET) joins both at once.

With PID: joins the UTS and network namespaces of process PID in one call and
prints the hostname seen there (no failing call first). Root (CAP_SYS_ADMIN)
joins any process's namespaces. Without root, for a process of your own in a
user namespace you created (e.g. `unshare --user --map-root-user --uts --net
sh`), the same call also joins that user namespace (CLONE_NEWUSER).

Read pidfd_open(2) and setns(2).
";

fn main() -> ExitCode {
    cli::main(USAGE, lesson)
}

fn lesson(mut args: Args) -> Result<()> {
    let pid = args.next("PID")?.map(|arg| cli::pid(&arg)).transpose()?;
    args.finish()?;
    match pid {
        None => join_own_target(),
        Some(pid) => join_pid(pid),
    }
}

/// Start a target in new UTS and network namespaces, then join both.
fn join_own_target() -> Result<()> {
    // Not root: first a user namespace of our own, in which we are root. The
    // target, forked afterwards, is in it too, and so its namespaces are
    // ours to join.
    userns::enter_if_unprivileged()?;
    let me = std::process::id();

    // ANCHOR: before
    let uts_before = NsId::current("uts")?;
    let net_before = NsId::current("net")?;
    say!(
        "process {me} (joiner): {uts_before} {net_before}; hostname \"{}\"",
        ns::hostname()?
    );
    // ANCHOR_END: before

    // ANCHOR: target
    // A child that unshares a UTS and a network namespace, sets its hostname,
    // prints one line and parks until we release it (workbook::target).
    let target = Target::spawn(
        CloneFlags::CLONE_NEWUTS | CloneFlags::CLONE_NEWNET,
        "ch05-target",
    )?;
    let target_pid = target.pid();
    let target_uts = NsId::of(Proc::Pid(target_pid), "uts")?;
    let target_net = NsId::of(Proc::Pid(target_pid), "net")?;
    // ANCHOR_END: target

    // ANCHOR: pidfd_open
    let pidfd = open_pidfd(target_pid)?;
    say!(
        "process {me} (joiner): pidfd_open({target_pid}, 0) -> a pidfd for process {target_pid}"
    );
    // ANCHOR_END: pidfd_open

    // ANCHOR: all_or_nothing
    // Ask for three namespaces, one of which cannot be joined: the target's
    // user namespace is the one we are in, and re-entering your own user
    // namespace is EINVAL (setns(2), user_namespaces(7)). The kernel prepares
    // every move on a copy of our namespaces and credentials (a `struct
    // nsset`), and commits the copy only if every move succeeded. It checks
    // the user namespace first, so here it fails before even looking at UTS
    // and NET; a failure on any later type would leave us where we are too.
    let too_many = CloneFlags::CLONE_NEWUTS
        | CloneFlags::CLONE_NEWUSER
        | CloneFlags::CLONE_NEWNET;
    match setns(&pidfd, too_many) {
        Err(Errno::EINVAL) => say!(
            "process {me} (joiner): setns(pidfd, {}) failed with EINVAL: process {target_pid}'s \
             user namespace is our own, which cannot be re-entered",
            ns::flag_names(too_many)
        ),
        Err(errno) => {
            return Err(Error::sys(
                format!(
                    "setns(pidfd of process {target_pid}, {})",
                    ns::flag_names(too_many)
                ),
                errno,
            ));
        }
        Ok(()) => {
            return Err(Error::refused(
                format!(
                    "setns(pidfd, {}) succeeded, though it asks to re-enter our own user namespace",
                    ns::flag_names(too_many)
                ),
                "",
            ));
        }
    }
    let uts_now = NsId::current("uts")?;
    let net_now = NsId::current("net")?;
    if (uts_now, net_now) != (uts_before, net_before) {
        return Err(Error::refused(
            format!(
                "the failed setns(2) moved this process anyway: now in {uts_now} {net_now}"
            ),
            "",
        ));
    }
    say!(
        "process {me} (joiner): still in {uts_now} {net_now}: the call joined none of them"
    );
    // ANCHOR_END: all_or_nothing

    // ANCHOR: setns
    // Now only the two we can join, both in one call. With a pidfd the flags
    // are a bitmask of what to join, and 0 (join nothing) is EINVAL; with a
    // /proc/PID/ns file they only check the type. Joining each namespace
    // needs CAP_SYS_ADMIN in our own user namespace and in the one that owns
    // it. setns moves the calling thread only; this program has one.
    let flags = CloneFlags::CLONE_NEWUTS | CloneFlags::CLONE_NEWNET;
    setns(&pidfd, flags).call(|| {
        format!(
            "setns(pidfd of process {target_pid}, {})",
            ns::flag_names(flags)
        )
    })?;
    let uts_after = NsId::current("uts")?;
    let net_after = NsId::current("net")?;
    ns::ensure_joined(target_uts, uts_after)?;
    ns::ensure_joined(target_net, net_after)?;
    say!(
        "process {me} (joiner): setns(pidfd, {}) -> {uts_after} {net_after}, the target's; \
         hostname \"{}\"",
        ns::flag_names(flags),
        ns::hostname()?
    );
    // ANCHOR_END: setns

    // ANCHOR: finish
    // Release the target and reap it. From now on setns with this pidfd
    // would fail with ESRCH; the namespaces live on, since we are in them.
    target.finish()?;
    say!(
        "process {me} (joiner): process {target_pid} has exited; still in {} {}, hostname \"{}\"",
        NsId::current("uts")?,
        NsId::current("net")?,
        ns::hostname()?
    );
    // ANCHOR_END: finish
    Ok(())
}

/// Join the UTS and network namespaces of process `pid` in one call.
fn join_pid(pid: Pid) -> Result<()> {
    // No enter_if_unprivileged here: from a user namespace of our own we
    // could never join namespaces that belong to the host. If we need the
    // target's user namespace, the setns call below joins it as well.
    let me = std::process::id();

    // ANCHOR: pid_before
    let user_before = NsId::current("user")?;
    let uts_before = NsId::current("uts")?;
    let net_before = NsId::current("net")?;
    say!(
        "process {me} (joiner): {user_before} {uts_before} {net_before}; hostname \"{}\"",
        ns::hostname()?
    );
    // ANCHOR_END: pid_before

    // ANCHOR: pid_open
    // The pidfd pins the process: if it exits and is reaped, setns fails
    // with ESRCH rather than joining whatever process reuses the PID.
    let pidfd = open_pidfd(pid)?;
    let target_user = NsId::of(Proc::Pid(pid), "user")?;
    let target_uts = NsId::of(Proc::Pid(pid), "uts")?;
    let target_net = NsId::of(Proc::Pid(pid), "net")?;
    say!(
        "process {me} (joiner): pidfd_open({pid}, 0) -> a pidfd; /proc/{pid}/ns shows \
         process {pid} in {target_user} {target_uts} {target_net}"
    );
    // ANCHOR_END: pid_open

    // ANCHOR: pid_flags
    // Joining asks for CAP_SYS_ADMIN in the user namespace that owns each
    // namespace. Root has it everywhere. Without it, we gain it by joining a
    // user namespace our own uid created, and with a pidfd that is one more
    // bit in the same call: the kernel joins the user namespace first, then
    // the others with the capabilities it gave us.
    let mut flags = CloneFlags::CLONE_NEWUTS | CloneFlags::CLONE_NEWNET;
    if userns::has_cap_sys_admin() {
        say!("process {me} (joiner): CAP_SYS_ADMIN here: join UTS and NET directly");
    } else if target_user == user_before {
        say!(
            "process {me} (joiner): no CAP_SYS_ADMIN, and process {pid} is in our own user \
             namespace: try UTS and NET directly"
        );
    } else {
        flags |= CloneFlags::CLONE_NEWUSER;
        say!(
            "process {me} (joiner): no CAP_SYS_ADMIN, and process {pid} is in another user \
             namespace: add CLONE_NEWUSER to the same call"
        );
    }
    // ANCHOR_END: pid_flags

    // ANCHOR: pid_setns
    setns(&pidfd, flags).call(|| {
        format!("setns(pidfd of process {pid}, {})", ns::flag_names(flags))
    })?;
    let mut now = Vec::new();
    if flags.contains(CloneFlags::CLONE_NEWUSER) {
        let user_after = NsId::current("user")?;
        ns::ensure_joined(target_user, user_after)?;
        now.push(user_after.to_string());
    }
    let uts_after = NsId::current("uts")?;
    let net_after = NsId::current("net")?;
    ns::ensure_joined(target_uts, uts_after)?;
    ns::ensure_joined(target_net, net_after)?;
    now.push(uts_after.to_string());
    now.push(net_after.to_string());
    say!(
        "process {me} (joiner): setns(pidfd, {}) -> {}, process {pid}'s; hostname \"{}\"",
        ns::flag_names(flags),
        now.join(" "),
        ns::hostname()?
    );
    // ANCHOR_END: pid_setns
    Ok(())
}

// ANCHOR: open_pidfd
/// pidfd_open(2) with no flags. nix 0.32 has no pidfd_open, so this is
/// rustix's; the descriptor is a std `OwnedFd`, which nix's setns accepts.
fn open_pidfd(pid: Pid) -> Result<OwnedFd> {
    let call = || format!("pidfd_open({pid}, 0)");
    let rustix_pid = rustix::process::Pid::from_raw(pid.as_raw())
        .ok_or_else(|| Error::usage(format!("{pid} is not a PID")))?;
    pidfd_open(rustix_pid, PidfdFlags::empty()).map_err(|err| {
        match Errno::from_raw(err.raw_os_error()) {
            Errno::ESRCH => Error::refused(
                format!("no process {pid}: {} failed: ESRCH", call()),
                "check the PID with `ps -p PID`; the process may have exited",
            ),
            // A thread's ID, not a process's: EINVAL before Linux 6.16,
            // ENOENT since (pidfd_open(2); PIDFD_THREAD, 6.9, opens a thread
            // on purpose). The hint reads the Tgid of /proc/PID/status.
            errno => Error::sys(call(), errno),
        }
    })
}
// ANCHOR_END: open_pidfd
