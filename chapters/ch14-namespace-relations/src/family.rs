//! The example's own family of namespaces, made by its own processes.
//!
//! The child enters a new user namespace (as anyone may: user_namespaces(7)),
//! then creates UTS, IPC and PID namespaces, which that user namespace owns.
//! unshare(CLONE_NEWPID) moves only future children (pid_namespaces(7)), so
//! its child, the grandchild, is PID 1 of the new PID namespace; it enters
//! a user namespace one level deeper and a UTS namespace of its own. Each
//! waits on a pipe until released, so the tree stays alive while the top
//! process looks at it, and nothing of it outlives the run.

use std::os::fd::AsFd;

use nix::sched::{CloneFlags, unshare};
use nix::unistd::{Pid, getegid, geteuid, getpid, read, write};
use workbook::error::Context;
use workbook::ns::{self, NsId};
use workbook::process::{self, Child, Receiver, Sender};
use workbook::userns::write_proc;
use workbook::{Error, Result, nsfs, say};

/// A parked child. Field order is drop order: on an error path the pipe
/// closes first, so the child, blocked on it, reads end-of-file and ends;
/// then it is reaped.
#[derive(Debug)]
struct Held {
    release: Sender,
    child: Child,
}

impl Held {
    fn finish(self) -> Result<()> {
        let Held { release, child } = self;
        drop(release);
        child.wait()
    }
}

/// The family, parked, as the top process sees it.
#[derive(Debug)]
pub(crate) struct Family {
    held: Held,
    /// The grandchild's PID, in the top process's PID namespace.
    pub(crate) grandchild: Pid,
}

impl Family {
    pub(crate) fn child_pid(&self) -> Pid {
        self.held.child.pid()
    }

    /// Release the child (which releases its own) and reap it.
    pub(crate) fn finish(self) -> Result<()> {
        self.held.finish()
    }
}

/// Fork the child, which makes the rest, and wait until both are parked.
pub(crate) fn start() -> Result<Family> {
    let (ready_tx, ready_rx) = process::channel()?;
    let (release_tx, release_rx) = process::channel()?;
    let child = process::fork_child(&[&ready_rx, &release_tx], || {
        child(&ready_tx, &release_rx)
    })?;
    let held = Held {
        release: release_tx,
        child,
    };
    drop((ready_tx, release_rx));
    // The child sends the grandchild's PID when both are ready; end-of-file
    // means it failed, and its error is on stderr.
    let mut bytes = [0u8; 4];
    let mut got = 0;
    while got < bytes.len() {
        match read(ready_rx.as_fd(), &mut bytes[got..]) {
            Ok(0) => return held.finish().and(Err("the child ended early".into())),
            Ok(n) => got += n,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(errno) => return Err(Error::sys("read(pipe)", errno)),
        }
    }
    Ok(Family {
        held,
        grandchild: Pid::from_raw(i32::from_ne_bytes(bytes)),
    })
}

// ANCHOR: child
fn child(ready: &Sender, release: &Receiver) -> Result<()> {
    let me = std::process::id();
    let user_ns = enter_user_namespace()?;
    let before: Vec<NsId> = ["uts", "ipc"]
        .map(NsId::current)
        .into_iter()
        .collect::<Result<_>>()?;
    let flags = CloneFlags::CLONE_NEWUTS
        | CloneFlags::CLONE_NEWIPC
        | CloneFlags::CLONE_NEWPID;
    unshare(flags)
        .call(|| "unshare(CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID)".into())?;
    let (uts, ipc) = (NsId::current("uts")?, NsId::current("ipc")?);
    ns::ensure_new(before[0], uts)?;
    ns::ensure_new(before[1], ipc)?;
    say!(
        "process {me}: unshare(CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID) -> {uts}, {ipc}, \
         owned by {user_ns}; the new PID namespace waits for this process's next child"
    );

    let (deep_ready_tx, deep_ready_rx) = process::channel()?;
    let (deep_release_tx, deep_release_rx) = process::channel()?;
    let grandchild = process::fork_child(
        &[&deep_ready_rx, &deep_release_tx, ready, release],
        || grandchild(&deep_ready_tx, &deep_release_rx),
    )?;
    let held = Held {
        release: deep_release_tx,
        child: grandchild,
    };
    drop((deep_ready_tx, deep_release_rx));
    if !deep_ready_rx.wait()? {
        return held.finish();
    }
    // From here, one level down, the walk from the grandchild's user
    // namespace stops at this process's own.
    let pid = held.child.pid();
    let deep = format!("/proc/{pid}/ns/user");
    let what = format!("fd of \"{deep}\"");
    crate::walk::walk_up(crate::walk::open(&deep)?, &what, "user")?;
    let uid = nsfs::owner_uid(crate::walk::open(&deep)?, &what)?;
    say!(
        "process {me}: ioctl({what}, NS_GET_OWNER_UID, &uid) -> uid {uid}, as {user_ns} sees it"
    );

    // Four bytes: one write(2) to a pipe of at most PIPE_BUF bytes is
    // atomic (pipe(7)), so the top process reads all of them or none.
    write(ready, &pid.as_raw().to_ne_bytes()).call(|| "write(pipe)".into())?;
    release.wait()?;
    held.finish()
}
// ANCHOR_END: child

// ANCHOR: grandchild
fn grandchild(ready: &Sender, release: &Receiver) -> Result<()> {
    let me = pid_in_proc()?;
    let pid_ns = NsId::current("pid")?;
    let user_ns = enter_user_namespace()?;
    let before = NsId::current("uts")?;
    unshare(CloneFlags::CLONE_NEWUTS).call(|| "unshare(CLONE_NEWUTS)".into())?;
    let uts = NsId::current("uts")?;
    ns::ensure_new(before, uts)?;
    say!(
        "process {me}: in {pid_ns}, where getpid() -> {}; unshare(CLONE_NEWUTS) -> {uts}, \
         owned by {user_ns}",
        getpid()
    );
    ready.notify()?;
    release.wait()?;
    Ok(())
}
// ANCHOR_END: grandchild

/// unshare(CLONE_NEWUSER) and map this process's own ids to 0 there
/// (user_namespaces(7): `deny` to setgroups first).
pub(crate) fn enter_user_namespace() -> Result<NsId> {
    let me = pid_in_proc()?;
    let (uid, gid) = (geteuid(), getegid());
    let above = NsId::current("user")?;
    unshare(CloneFlags::CLONE_NEWUSER).call(|| "unshare(CLONE_NEWUSER)".into())?;
    let user_ns = NsId::current("user")?;
    ns::ensure_new(above, user_ns)?;
    write_proc("/proc/self/setgroups", "deny")?;
    write_proc("/proc/self/uid_map", &format!("0 {uid} 1"))?;
    write_proc("/proc/self/gid_map", &format!("0 {gid} 1"))?;
    say!(
        "process {me}: unshare(CLONE_NEWUSER) -> {user_ns}, child of {above}; uid {uid} \
         there is 0 here"
    );
    Ok(user_ns)
}

/// This process's PID as the mounted /proc (the top process's PID
/// namespace) names it: the link `/proc/self` (proc(5)). getpid(2) would
/// say 1 in the grandchild, whose PID namespace is new.
fn pid_in_proc() -> Result<String> {
    let link = std::fs::read_link("/proc/self")
        .call(|| "readlink(\"/proc/self\")".into())?;
    Ok(link.to_string_lossy().into_owned())
}
