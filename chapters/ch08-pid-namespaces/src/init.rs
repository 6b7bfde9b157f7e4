//! PID 1's part of the story: what the first process of a new PID namespace
//! sees and must do (pid_namespaces(7), "The namespace init process").
//!
//! Every process here is in the new namespace, so the PIDs it prints are the
//! namespace's own (`PID 1`, `PID 2`...): the same on every run.

use std::fs;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};
use nix::sys::prctl;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{Pid, getpid, getppid, pause};
use workbook::error::Context;
use workbook::ns::{self, NsId};
use workbook::process::{self, Receiver, Sender};
use workbook::{Error, Result, cleanup, mountinfo, say};

/// What PID 1 gets from the example's first process.
#[derive(Debug)]
pub(crate) struct Story {
    /// Where to mount the namespace's /proc.
    pub dir: PathBuf,
    /// The PID namespace the example started in.
    pub host_pid_ns: NsId,
    /// Told when PID 1 has shown everything and waits to be killed.
    pub parked: Sender,
    /// One byte: go. End-of-file: the parent is gone, stop.
    pub from_parent: Receiver,
    /// Given to the sleeper, which holds it until it dies.
    pub sleeper: Sender,
}

pub(crate) fn run(story: Story) -> Result<()> {
    // ANCHOR: pdeathsig
    // If the example dies, PID 1 must die too, and with it the namespace:
    // the kernel sends PID 1 this signal when its parent exits (prctl(2)).
    // SIGKILL from the parent's side cannot be refused, even by PID 1.
    prctl::set_pdeathsig(Signal::SIGKILL)
        .call(|| "prctl(PR_SET_PDEATHSIG, SIGKILL)".into())?;
    // ANCHOR_END: pdeathsig
    if !story.from_parent.wait()? {
        return Ok(());
    }
    let pid_ns = NsId::current("pid")?;

    // ANCHOR: whoami
    // "A call to getpid(2) always returns the PID associated with the
    // namespace in which the process was created"; the parent is outside
    // it, so getppid(2) returns 0.
    say!(
        "PID {} (init) in {pid_ns}: getpid() -> {}, getppid() -> {}",
        getpid(),
        getpid(),
        getppid()
    );
    // ANCHOR_END: whoami

    let proc_mount = own_proc(&story.dir)?;
    orphan(&story.dir)?;
    nested(story.host_pid_ns, pid_ns)?;

    // ANCHOR: sleeper
    // A process that would never end on its own: only a signal stops
    // pause(2). PID 1 does not wait for it: when PID 1 dies, the kernel
    // kills it, and PID 1's exit reaps it.
    let (ready_tx, ready_rx) = process::channel()?;
    let sleeper_tx = story.sleeper;
    let sleeper = process::fork_child(&[&ready_rx], move || {
        let _held_until_death = sleeper_tx;
        ready_tx.notify()?;
        loop {
            pause();
        }
    })?;
    if !ready_rx.wait()? {
        return Err(Error::refused("the sleeper ended before it was ready", ""));
    }
    say!(
        "PID 1 (init): fork() -> PID {} (sleeper), which waits in pause() forever",
        sleeper.pid()
    );
    std::mem::forget(sleeper);
    // ANCHOR_END: sleeper

    // ANCHOR: park
    proc_mount.unmount()?;
    say!(
        "PID 1 (init): umount2(\"{}\", 0); waits for the parent",
        story.dir.display()
    );
    story.parked.notify()?;
    // Blocks until the parent closes its end; it kills us first.
    story.from_parent.wait()?;
    // ANCHOR_END: park
    Ok(())
}

/// A /proc for the new namespace. "A /proc filesystem shows ... only
/// processes visible in the PID namespace of the process that performed the
/// mount" (pid_namespaces(7), "/proc and PID namespaces"), so PID 1 mounts
/// it. In a mount namespace of its own, made private first: on the host,
/// `dir` stays an empty directory.
fn own_proc(dir: &Path) -> Result<cleanup::Mount> {
    // ANCHOR: proc
    let mnt_before = NsId::current("mnt")?;
    unshare(CloneFlags::CLONE_NEWNS).call(|| "unshare(CLONE_NEWNS)".into())?;
    let mnt = NsId::current("mnt")?;
    ns::ensure_new(mnt_before, mnt)?;
    mountinfo::make_root_private()?;
    let call = format!(
        "mount(\"proc\", \"{}\", \"proc\", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)",
        dir.display()
    );
    let proc_mount = cleanup::Mount::new(dir, || {
        mount(
            Some("proc"),
            dir,
            Some("proc"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
            None::<&str>,
        )
        .call(|| call.clone())
    })?;
    say!(
        "PID 1 (init): unshare(CLONE_NEWNS) -> {mnt}; \
         mount(NULL, \"/\", NULL, MS_REC | MS_PRIVATE, NULL); {call}"
    );
    let self_link = fs::read_link(dir.join("self"))
        .call(|| format!("readlink(\"{}/self\")", dir.display()))?;
    say!(
        "PID 1 (init): it lists PIDs {:?}; its self -> {}",
        pids_in(dir)?,
        self_link.display()
    );
    // ANCHOR_END: proc
    Ok(proc_mount)
}

/// The PIDs a /proc mounted on `dir` lists, in order.
fn pids_in(dir: &Path) -> Result<Vec<u32>> {
    let entries =
        fs::read_dir(dir).call(|| format!("opendir(\"{}\")", dir.display()))?;
    let mut pids = Vec::new();
    for entry in entries {
        let entry = entry.call(|| format!("readdir(\"{}\")", dir.display()))?;
        if let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) {
            pids.push(pid);
        }
    }
    pids.sort_unstable();
    Ok(pids)
}

/// PID 2 forks PID 3 and exits without waiting: PID 3 is re-parented to PID
/// 1, which must reap it, though it never forked it.
fn orphan(dir: &Path) -> Result<()> {
    // ANCHOR: orphan
    let (go_tx, go_rx) = process::channel()?;
    let (done_tx, done_rx) = process::channel()?;
    let dir_for_orphan = dir.to_owned();
    let parent = process::fork_child(&[&go_tx, &done_rx], move || {
        let orphan = process::fork_child(&[], move || {
            orphan_life(&dir_for_orphan, &go_rx, &done_tx)
        })?;
        say!(
            "PID {} (parent): fork() -> PID {}; exits without waiting for it",
            getpid(),
            orphan.pid()
        );
        // On purpose: this process exits and leaves its child an orphan.
        std::mem::forget(orphan);
        Ok(())
    })?;
    let parent_pid = parent.pid();
    parent.wait()?;
    say!("PID 1 (init): reaped PID {parent_pid} (parent)");
    go_tx.notify()?;
    if !done_rx.wait()? {
        return Err(Error::refused("the orphan ended before its report", ""));
    }
    // ANCHOR_END: orphan

    // ANCHOR: reap
    // PID 1 never forked it, yet it is PID 1's child now: waitpid(-1) finds
    // it. An init that waits only for the children it forked leaves zombies.
    let status = loop {
        match waitpid(None::<Pid>, None) {
            Err(Errno::EINTR) => continue,
            other => break other.call(|| "waitpid(-1, &status, 0)".into())?,
        }
    };
    say!(
        "PID 1 (init): still alive; waitpid(-1, &status, 0) -> PID {}, {}",
        status.pid().map_or(0, Pid::as_raw),
        describe(status)
    );
    // ANCHOR_END: reap
    Ok(())
}

fn orphan_life(dir: &Path, go: &Receiver, done: &Sender) -> Result<()> {
    if !go.wait()? {
        return Ok(());
    }
    let me = getpid();
    // ANCHOR: orphan_life
    let parent = getppid();
    say!(
        "PID {me} (orphan): getppid() -> {parent}; its /proc lists {:?}",
        pids_in(dir)?
    );
    if parent.as_raw() != 1 {
        return Err(Error::refused(
            format!("the orphan's parent is PID {parent}, not PID 1"),
            "",
        ));
    }
    // "Only signals for which the "init" process has established a signal
    // handler can be sent to the "init" process by other members of the PID
    // namespace": the kernel drops this one, and kill(2) still returns 0.
    kill(Pid::from_raw(1), Signal::SIGKILL).call(|| "kill(1, SIGKILL)".into())?;
    say!("PID {me} (orphan): kill(1, SIGKILL) -> 0");
    // ANCHOR_END: orphan_life
    done.notify()
}

/// One process, one PID per level: PID 4 unshares a third namespace, and
/// its child is PID 1 there, PID 5 here and a host PID outside.
fn nested(host_pid_ns: NsId, pid_ns: NsId) -> Result<()> {
    // ANCHOR: nested
    let nester = process::fork_child(&[], move || {
        unshare(CloneFlags::CLONE_NEWPID).call(|| "unshare(CLONE_NEWPID)".into())?;
        say!("PID {} (nester): unshare(CLONE_NEWPID); fork()", getpid());
        let child = process::fork_child(&[], move || {
            let own = NsId::current("pid")?;
            ns::ensure_new(pid_ns, own)?;
            say!(
                "PID {} (nested): {}",
                getpid(),
                crate::pid1::nspid_line("self", &[host_pid_ns, pid_ns, own])?
            );
            Ok(())
        })?;
        child.wait()
    })?;
    nester.wait()?;
    // ANCHOR_END: nested
    Ok(())
}

pub(crate) fn describe(status: WaitStatus) -> String {
    match status {
        WaitStatus::Exited(_, code) => format!("exited {code}"),
        WaitStatus::Signaled(_, signal, _) => format!("killed by {signal}"),
        other => format!("{other:?}"),
    }
}
