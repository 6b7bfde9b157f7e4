//! Chapter 7: a user namespace, made, mapped and owned.
//!
//! clone(2) with CLONE_NEWUSER starts a child in a new user namespace. Until
//! someone writes its maps, its uid reads as the overflow uid (65534), and
//! yet it holds every capability: in its new namespace only. Its parent
//! writes the child's `uid_map` and `gid_map` while the child waits on a
//! pipe (the pattern of user_namespaces(7)'s example program): root may map
//! a range, anyone else only their own id, and only after `deny` went to
//! `setgroups`. Then the child meets what the maps and the capabilities
//! mean: files of unmapped owners show as the overflow uid, the host's UTS
//! namespace still refuses it (EPERM), and a UTS namespace it creates
//! belongs to its user namespace (ioctl NS_GET_USERNS proves it), so there
//! sethostname works.
//!
//! `nest` (nest.rs) shows how deep user namespaces nest.
//!
//! This chapter does not use workbook::userns::enter_if_unprivileged: the
//! user namespace is the lesson, for root and for anyone else alike.
//!
//! Read: user_namespaces(7), capabilities(7), clone(2), ioctl_ns(2).

mod child;
mod maps;
mod nest;

use std::io::Write;
use std::os::fd::{AsFd, AsRawFd};
use std::process::ExitCode;

use nix::sched::{CloneFlags, clone};
use nix::sys::signal::Signal;
use nix::unistd::{getegid, geteuid};
use workbook::cli::{self, Args};
use workbook::error::Context;
use workbook::ns::{self, NsId};
use workbook::process::{self, Child, Receiver, Sender};
use workbook::{Error, Result, nsfs, say};

const USAGE: &str = "\
Usage: ch07-user-namespaces [--no-map]
       ch07-user-namespaces nest

Clones a child into a new user namespace (CLONE_NEWUSER). The child shows
its uid before any map (the overflow uid) and its capabilities; the parent
writes the child's uid_map and gid_map (root: a range, \"0 100000 65536\";
anyone else: their own id, after `deny` to setgroups), then releases it. The
child then stats files through its map, is refused sethostname on the host's
UTS namespace, creates a UTS namespace its user namespace owns and sets the
hostname there.

  --no-map  the parent writes no map: see what the child meets then
  nest      nest user namespaces until the kernel refuses one more

Read user_namespaces(7) and capabilities(7).
";

/// The hostname the child sets in the UTS namespace it creates.
const CHILD_HOSTNAME: &str = "ch07-child";

/// The child's stack: see chapter 3 (1 MiB, pages backed only when touched).
const STACK_SIZE: usize = 1024 * 1024;

fn main() -> ExitCode {
    cli::main(USAGE, lesson)
}

fn lesson(mut args: Args) -> Result<()> {
    let no_map = args.flag("--no-map");
    let mode = args.next("mode")?;
    args.finish()?;
    match (mode.as_deref(), no_map) {
        (None, _) => story(!no_map),
        (Some("nest"), false) => nest::nest(),
        (Some("nest"), true) => Err(Error::usage("--no-map goes without nest")),
        (Some(other), _) => Err(Error::usage(format!("unknown mode {other:?}"))),
    }
}

/// What the child needs from its parent.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Parent {
    pub(crate) user_ns: NsId,
    pub(crate) uts_ns: NsId,
    /// The user namespace that owns `uts_ns`; `None` when it is above
    /// `user_ns`, where ioctl_ns(2) does not answer (EPERM).
    pub(crate) uts_owner: Option<NsId>,
}

fn story(write_maps: bool) -> Result<()> {
    let me = std::process::id();
    // ANCHOR: parent_before
    let parent = Parent {
        user_ns: NsId::current("user")?,
        uts_ns: NsId::current("uts")?,
        uts_owner: uts_owner()?,
    };
    let (uid, gid) = (geteuid(), getegid());
    say!(
        "process {me} (parent): uid {uid}, gid {gid}, in {}; CapEff {}",
        parent.user_ns,
        cap_eff("self")?
    );
    // ANCHOR_END: parent_before

    // ANCHOR: clone
    // Two pipes. On `release` the parent sends two bytes: "go" (so that
    // the child's first lines come after this one's) and "maps written". On
    // `ready` the child says it has looked at itself and waits. A closed
    // pipe releases the child too: it then finds no map and fails, never
    // hangs.
    let (ready_tx, ready_rx) = process::channel()?;
    let (release_tx, release_rx) = process::channel()?;
    let child = clone_child(parent, &ready_tx, &release_rx, &release_tx)?;
    let held = Held {
        release: release_tx,
        child,
    };
    let pid = held.child.pid();
    // Our copies: the child holds its own. Dropped, so that a child that
    // dies makes our read return end-of-file.
    drop((ready_tx, release_rx));
    say!("process {me} (parent): clone(CLONE_NEWUSER | SIGCHLD) -> process {pid}");
    held.release.notify()?;
    if !ready_rx.wait()? {
        return held.finish();
    }
    // ANCHOR_END: clone

    // ANCHOR: parent_sees
    // The same bits, seen from outside: capabilities(7) counts them in the
    // child's user namespace, where this parent is the owner.
    let uid_map = read_proc(&format!("/proc/{pid}/uid_map"))?;
    let mapped = match uid_map.trim() {
        "" => "empty: nothing is mapped yet".to_owned(),
        lines => format!("already \"{lines}\""),
    };
    say!(
        "process {me} (parent): /proc/{pid}/status shows CapEff {}; /proc/{pid}/uid_map \
         is {mapped}",
        cap_eff(&pid.to_string())?
    );
    // ANCHOR_END: parent_sees

    // ANCHOR: maps
    match write_maps {
        true => maps::write(pid, uid, gid)?,
        false => say!("process {me} (parent): --no-map: writes no map"),
    }
    held.release.notify()?;
    // ANCHOR_END: maps

    // ANCHOR: parent_after
    held.finish()?;
    let uts = NsId::current("uts")?;
    say!(
        "process {me} (parent): process {pid} exited with status 0; this process is in \
         {uts}, hostname \"{}\", unchanged",
        ns::hostname()?
    );
    // ANCHOR_END: parent_after
    Ok(())
}

/// A child that waits on `release`. Field order is drop order: on an error
/// path the pipe closes first, so the child, blocked on it, reads
/// end-of-file and ends; then it is reaped. (The other order would wait
/// forever for a child that waits for us.)
#[derive(Debug)]
pub(crate) struct Held {
    pub(crate) release: Sender,
    pub(crate) child: Child,
}

impl Held {
    /// Close the pipe (the child's last release), then reap the child.
    pub(crate) fn finish(self) -> Result<()> {
        let Held { release, child } = self;
        drop(release);
        child.wait()
    }
}

/// clone(2) a child into a new user namespace, running [`child::story`].
fn clone_child(
    parent: Parent,
    ready: &Sender,
    release: &Receiver,
    release_tx: &Sender,
) -> Result<Child> {
    let mut stack = vec![0u8; STACK_SIZE];
    let _ = std::io::stdout().flush();
    let child_cb: nix::sched::CloneCb = Box::new(|| {
        // Safety: the child's copy of the parent's end of the release pipe.
        // Its owner (a Sender in the parent's frames) is never dropped in the
        // child, which ends when this closure returns: closed once, here.
        // Without this, the child would keep the pipe open for itself and
        // never see end-of-file if the parent died.
        unsafe { libc::close(release_tx.as_fd().as_raw_fd()) };
        process::child_life(|| child::story(parent, ready, release)) as isize
    });
    // Safety: as in chapter 3: this process has one thread (it starts none,
    // and the kernel refuses CLONE_NEWUSER to a threaded caller anyway:
    // EINVAL), so the child holds no lock a missing thread would never
    // release; it runs on `stack` (1 MiB), has its own copy of our memory
    // (no CLONE_VM), and leaves only by returning from the closure, whose
    // panics child_life catches.
    let pid = unsafe {
        clone(
            child_cb,
            &mut stack,
            CloneFlags::CLONE_NEWUSER,
            Some(Signal::SIGCHLD as i32),
        )
    }
    .call(|| "clone(CLONE_NEWUSER | SIGCHLD)".into())?;
    Ok(Child::from_pid(pid))
}

/// `CapEff` of `/proc/<proc>/status` (proc(5)): the effective capabilities,
/// as a hexadecimal mask (bit 21, CAP_SYS_ADMIN, is 0x200000).
pub(crate) fn cap_eff(proc: &str) -> Result<String> {
    let path = format!("/proc/{proc}/status");
    let status = read_proc(&path)?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("CapEff:"))
        .map(|v| v.trim().to_owned())
        .ok_or_else(|| {
            Error::refused(
                format!("no CapEff: line in {path}"),
                "is /proc mounted? (mount -t proc proc /proc)",
            )
        })
}

/// NS_GET_USERNS on our UTS namespace: its owner, if in sight.
fn uts_owner() -> Result<Option<NsId>> {
    let path = "/proc/self/ns/uts";
    let uts =
        std::fs::File::open(path).call(|| format!("open(\"{path}\", O_RDONLY)"))?;
    match nsfs::owner_id(&uts, &format!("fd of \"{path}\"")) {
        Ok(owner) => Ok(Some(owner)),
        Err(err) if err.errno() == Some(nix::errno::Errno::EPERM) => Ok(None),
        Err(err) => Err(err),
    }
}

/// read(2) a whole /proc file.
pub(crate) fn read_proc(path: &str) -> Result<String> {
    std::fs::read_to_string(path).call(|| format!("read(fd of \"{path}\")"))
}
