//! Chapter 4: joining a namespace through `/proc/PID/ns`.
//!
//! Every process's namespaces are files: `/proc/PID/ns/uts` is the UTS
//! namespace process PID is in. Open that file and pass the descriptor to
//! setns(2), and the calling process moves into that namespace: from then on
//! it sees the other process's hostname. This is what `nsenter --uts=FILE`
//! does (with `--target PID`, newer nsenter(1) may use a pidfd instead).
//!
//! Without arguments the example starts its own target (a child parked in a
//! new UTS namespace with the hostname "ch04-target") and joins it. With a PID
//! it joins that process's UTS namespace and reports the hostname seen there.
//!
//! The slides' note "Can only set a single namespace per netns(2) invocation"
//! means setns(2) ("netns(2)" is a typo), and it holds for a namespace file
//! like this one: one descriptor names one namespace, so one call joins one.
//! Joining several in one call takes a pidfd (chapter 5).
//!
//! Read: setns(2), namespaces(7) ("/proc/pid/ns"), user_namespaces(7), nsenter(1).

mod join_pid;
mod ns_file;

use std::process::ExitCode;

use nix::sched::{CloneFlags, setns};
use workbook::Result;
use workbook::cli::{self, Args};
use workbook::error::Context;
use workbook::ns::{self, NsId};
use workbook::say;
use workbook::target::Target;
use workbook::userns;

const USAGE: &str = "\
Usage: ch04-join-proc [PID]

Joins a UTS namespace with setns(2) through /proc/PID/ns/uts.
Without PID, joins a target it starts (hostname \"ch04-target\").
With PID, joins that process's UTS namespace; without root, the process
must be in a user namespace you created (`unshare --user --map-root-user
--uts sh`), which is joined first. Read setns(2) and namespaces(7).
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

/// Start a target in a new UTS namespace, then join it.
fn join_own_target() -> Result<()> {
    // Not root: first a user namespace of our own, in which we are root. The
    // target is forked afterwards, so it lives in that user namespace too,
    // and its UTS namespace belongs to it: we may join it.
    userns::enter_if_unprivileged()?;
    let me = std::process::id();

    // ANCHOR: before
    let uts_before = NsId::current("uts")?;
    say!(
        "process {me} (joiner): {uts_before}; hostname \"{}\"",
        ns::hostname()?
    );
    // ANCHOR_END: before

    // ANCHOR: target
    // A child that unshares a UTS namespace, sets its hostname there, prints
    // one line and parks until we release it (workbook::target).
    let target = Target::spawn(CloneFlags::CLONE_NEWUTS, "ch04-target")?;
    let target_pid = target.pid();
    // ANCHOR_END: target

    // ANCHOR: open
    // The namespace file of the target. O_RDONLY is enough: setns(2) only
    // needs a descriptor that refers to the namespace. O_CLOEXEC so that no
    // program we might exec inherits it.
    let uts_fd = ns_file::open_ns(target_pid, "uts")?;
    let target_uts =
        NsId::of_fd("uts", &uts_fd, &format!("/proc/{target_pid}/ns/uts"))?;
    say!(
        "process {me} (joiner): open(\"/proc/{target_pid}/ns/uts\", O_RDONLY | O_CLOEXEC) -> \
         uts_fd, a descriptor of {target_uts}"
    );
    // ANCHOR_END: open

    // ANCHOR: setns
    // setns(2) with a namespace file joins exactly the one namespace the file
    // names. The second argument only checks its type: CLONE_NEWUTS says "this
    // must be a UTS namespace", and a file of another type then fails with
    // EINVAL instead of moving us somewhere unexpected. 0 would accept any type.
    // Joining a UTS namespace needs CAP_SYS_ADMIN in our own user namespace
    // and in the user namespace that owns it (EPERM otherwise; setns(2),
    // "Network, IPC, time, and UTS namespaces"; other types differ). It
    // moves the calling thread only; this program has one.
    setns(&uts_fd, CloneFlags::CLONE_NEWUTS).call(|| {
        format!("setns(fd of \"/proc/{target_pid}/ns/uts\", CLONE_NEWUTS)")
    })?;
    let uts_after = NsId::current("uts")?;
    ns::ensure_joined(target_uts, uts_after)?;
    say!(
        "process {me} (joiner): setns(uts_fd, CLONE_NEWUTS) -> {uts_after}, the target's; \
         hostname \"{}\"",
        ns::hostname()?
    );
    // ANCHOR_END: setns

    // ANCHOR: finish
    // Release the target and reap it. The namespace outlives it: we are
    // still in it (and we hold uts_fd), so it is not freed.
    target.finish()?;
    say!(
        "process {me} (joiner): process {target_pid} has exited; still in {}, hostname \"{}\"",
        NsId::current("uts")?,
        ns::hostname()?
    );
    // ANCHOR_END: finish
    Ok(())
}
