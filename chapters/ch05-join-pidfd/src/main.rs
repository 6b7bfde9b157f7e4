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

mod join_pid;
mod pidfd;

use std::process::ExitCode;

use nix::errno::Errno;
use nix::sched::{CloneFlags, setns};
use workbook::cli::{self, Args};
use workbook::error::Context;
use workbook::ns::{self, NsId, Proc};
use workbook::say;
use workbook::target::Target;
use workbook::userns;
use workbook::{Error, Result};

const USAGE: &str = "\
Usage: ch05-join-pidfd [PID]

Joins a UTS and a network namespace in one setns(2) call through a pidfd
(Linux 5.8+). Without PID, joins a target it starts (hostname
\"ch05-target\"), after a call that fails and joins none. With PID, joins
that process's; without root, the process must be in a user namespace you
created, joined in the same call. Read pidfd_open(2) and setns(2).
";

fn main() -> ExitCode {
    cli::main(USAGE, lesson)
}

fn lesson(mut args: Args) -> Result<()> {
    let pid = args.next("PID")?.map(|arg| cli::pid(&arg)).transpose()?;
    args.finish()?;
    match pid {
        None => join_own_target(),
        Some(pid) => join_pid::join_pid(pid),
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
    let pidfd = pidfd::open_pidfd(target_pid)?;
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
