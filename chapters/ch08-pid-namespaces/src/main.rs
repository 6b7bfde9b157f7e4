//! Chapter 8: PID namespaces.
//!
//! unshare(CLONE_NEWPID) does not move the caller: its PID cannot change
//! under it. It only decides where its children are born. The first child
//! is PID 1 of the new namespace, its "init": it reaps the orphans of the
//! namespace, no signal from inside can kill it, and when it dies the kernel
//! kills everything else in the namespace and no process can be born there
//! again.
//!
//! This example calls unshare(CLONE_NEWPID), forks PID 1 and shows what the
//! parent sees of it (init.rs is PID 1's part of the story: its own /proc,
//! an orphan, a signal it ignores, a nested namespace). Then it kills PID 1
//! from outside and shows the namespace die with it.
//!
//! Read: pid_namespaces(7), unshare(2), namespaces(7) ("/proc/pid/ns"),
//! proc(5) ("/proc/pid/status", NSpid), kill(2).

mod init;
mod pid1;

use std::process::ExitCode;

use nix::errno::Errno;
use nix::sched::{CloneFlags, unshare};
use nix::sys::signal::{Signal, kill};
use pid1::Pid1;
use workbook::cli::{self, Args};
use workbook::error::Context;
use workbook::ns::{self, NsId};
use workbook::process;
use workbook::{Error, Result, cleanup, say, userns};

const USAGE: &str = "\
Usage: ch08-pid-namespaces

Calls unshare(CLONE_NEWPID), which moves only the children born afterwards,
and forks the first of them: PID 1 of the new PID namespace. PID 1 mounts a
/proc of its own (in a private mount namespace, on a temporary directory),
adopts an orphan, survives a SIGKILL sent from inside, and shows a nested
PID namespace. Then this process kills it from outside: the kernel kills the
rest of the namespace, and fork(2) into it fails with ENOMEM.

Root runs it directly; anyone else runs it inside a user namespace the
example creates first. Read pid_namespaces(7).
";

fn main() -> ExitCode {
    cli::main(USAGE, lesson)
}

fn lesson(args: Args) -> Result<()> {
    args.finish()?;
    userns::enter_if_unprivileged()?;
    let me = std::process::id();

    // ANCHOR: before
    let pid_ns = NsId::current("pid")?;
    let for_children = pid1::pid_for_children()?;
    say!(
        "process {me}: in {pid_ns}; its children are born in {}",
        for_children.map_or("no namespace yet (ENOENT)".into(), |ns| ns.to_string())
    );
    // ANCHOR_END: before

    // ANCHOR: unshare
    // The caller's PID namespace is fixed at its birth: unshare(CLONE_NEWPID)
    // makes a namespace for the children it forks from now on
    // (pid_namespaces(7), "setns(2) and unshare(2) semantics").
    unshare(CloneFlags::CLONE_NEWPID).call(|| "unshare(CLONE_NEWPID)".into())?;
    let pid_ns_now = NsId::current("pid")?;
    ns::ensure_joined(pid_ns, pid_ns_now)?;
    // Until the first child is born, pid_for_children names no namespace.
    let after = pid1::pid_for_children()?;
    if let (Some(before), Some(now)) = (for_children, after) {
        ns::ensure_new(before, now)?;
    }
    say!(
        "process {me}: unshare(CLONE_NEWPID) -> still process {} in {pid_ns_now}; \
         pid_for_children: {}",
        nix::unistd::getpid(),
        after.map_or("ENOENT until the first child is born".into(), |ns| ns
            .to_string())
    );
    // "A process may call unshare(2) with the CLONE_NEWPID flag only once."
    match unshare(CloneFlags::CLONE_NEWPID) {
        Err(Errno::EINVAL) => say!(
            "process {me}: unshare(CLONE_NEWPID) again -> EINVAL: once per process"
        ),
        Err(errno) => return Err(Error::sys("unshare(CLONE_NEWPID)", errno)),
        Ok(()) => {
            return Err(Error::refused(
                "a second unshare(CLONE_NEWPID) succeeded",
                "pid_namespaces(7) says a process may do it only once",
            ));
        }
    }
    // ANCHOR_END: unshare

    // ANCHOR: tempdir
    // Where PID 1 will mount its /proc, in a mount namespace of its own: on
    // the host this stays an empty directory, removed at the end.
    let dir = cleanup::TempDir::new("ch08-pid-namespaces")?;
    say!(
        "process {me}: mkdtemp(\"{}\") -> \"{}\"",
        dir.template().display(),
        dir.path().display()
    );
    // ANCHOR_END: tempdir

    // ANCHOR: fork
    // One pipe to PID 1: a byte says "go" (after the line below is printed,
    // so the lines come in order), end-of-file says we are gone. The sleeper
    // PID 1 starts last holds the only write end of the second pipe:
    // end-of-file there means it is dead.
    let (go_tx, go_rx) = process::channel()?;
    let (parked_tx, parked_rx) = process::channel()?;
    let (sleeper_tx, sleeper_rx) = process::channel()?;
    let story = init::Story {
        dir: dir.path().to_owned(),
        host_pid_ns: pid_ns,
        parked: parked_tx,
        from_parent: go_rx,
        sleeper: sleeper_tx,
    };
    let child = process::fork_child(&[&go_tx, &parked_rx, &sleeper_rx], || {
        init::run(story)
    })?;
    let init = Pid1 { go: go_tx, child };
    let init_pid = init.child.pid();
    let new_ns = NsId::of(ns::Proc::Pid(init_pid), "pid")?;
    ns::ensure_new(pid_ns, new_ns)?;
    say!(
        "process {me}: fork() -> process {init_pid}; pid_for_children is now {}",
        NsId::current("pid_for_children")?
    );
    say!(
        "process {me}: {}",
        pid1::nspid_line(&init_pid.to_string(), &[pid_ns, new_ns])?
    );
    init.go.notify()?;
    // ANCHOR_END: fork

    // ANCHOR: parked
    if !parked_rx.wait()? {
        // PID 1 failed and has printed why; its exit status says so too.
        init.child.wait()?;
        return Err(Error::refused(
            "PID 1 ended before the end of its story",
            "",
        ));
    }
    // ANCHOR_END: parked

    // ANCHOR: kill
    // From the parent namespace, SIGKILL cannot be refused: "these signals
    // are forcibly delivered when sent from an ancestor PID namespace".
    kill(init_pid, Signal::SIGKILL).call(|| format!("kill({init_pid}, SIGKILL)"))?;
    let status = init.reap()?;
    say!(
        "process {me}: kill({init_pid}, SIGKILL) -> 0; waitpid({init_pid}, &status, 0) -> {}",
        init::describe(status)
    );
    // The kernel killed every other process of the namespace with PID 1
    // (pid_namespaces(7), "The namespace init process"): the sleeper, which
    // would never have ended on its own, is gone.
    if sleeper_rx.wait()? {
        return Err(Error::refused("the sleeper wrote to its pipe", ""));
    }
    say!("process {me}: the sleeper's pipe is at end-of-file: it died with PID 1");
    // ANCHOR_END: kill

    // ANCHOR: enomem
    // Our children still go to the dead namespace, and none can be born in
    // it: "a subsequent fork(2) into this PID namespace fail[s] with ENOMEM".
    match process::fork_child(&[], || Ok(())) {
        Err(err) if err.errno() == Some(Errno::ENOMEM) => say!(
            "process {me}: fork() -> ENOMEM: pid_for_children is still {}, whose PID 1 \
             is dead",
            NsId::current("pid_for_children")?
        ),
        Err(err) => return Err(err),
        Ok(child) => {
            child.wait()?;
            return Err(Error::refused(
                "fork() succeeded in a PID namespace whose PID 1 had exited",
                "pid_namespaces(7) says it fails with ENOMEM",
            ));
        }
    }
    // ANCHOR_END: enomem

    // ANCHOR: cleanup
    let path = dir.path().to_owned();
    dir.remove()?;
    say!(
        "process {me}: rmdir(\"{}\"): nothing is left",
        path.display()
    );
    // ANCHOR_END: cleanup
    Ok(())
}
