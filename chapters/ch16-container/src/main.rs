//! Chapter 16, the capstone: a rootless container, made of the chapters.
//!
//! The parent clones a child into new user, PID, mount, UTS, IPC, network
//! and cgroup namespaces at once (clone(2)), writes its maps (chapter 7)
//! while the child waits on a pipe, and then waits for it, forwarding
//! SIGINT and SIGTERM. The child, PID 1 of its PID namespace (chapter 8),
//! becomes root of its user namespace, builds a root on a tmpfs and
//! pivot_roots into it (chapter 9, in rootfs.rs), sets its hostname
//! (chapter 3), brings `lo` up (chapter 10), and execs the command as
//! PID 1, or under a tiny init that reaps orphans and forwards signals
//! (init.rs). The parent exits with the command's status.
//!
//! Nothing is left on the host: every mount is in the child's mount
//! namespace, every process in its PID namespace, which die with PID 1; no
//! file and no cgroup is made. Run as root, the container is still in a
//! user namespace of its own, its root mapped to an unprivileged id
//! (maps.rs says why).
//!
//! Read: namespaces(7), clone(2), user_namespaces(7), pid_namespaces(7),
//! pivot_root(2), cgroup_namespaces(7).

mod init;
mod maps;
mod options;
mod parent;
mod rootfs;
mod signals;

use std::io::Write;
use std::os::fd::{AsFd, AsRawFd};
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use nix::sched::{CloneFlags, clone};
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use workbook::Result;
use workbook::cli::{self, Args};
use workbook::error::Context;
use workbook::ns::NsId;
use workbook::process::{self, Receiver, Sender};

pub use options::Config;
use parent::{Container, close_on_exec};

const USAGE: &str = "\
Usage: ch16-container [--quiet] [--init] [--time] [--hostname NAME] COMMAND [ARGS...]

Runs COMMAND in a container made of the chapters: new user, PID, mount,
UTS, IPC, network and cgroup namespaces; a root on a tmpfs with the host's
/usr read-only, a fresh /proc, a minimal /dev and a /tmp; lo up. Rootless:
even as root, the container's root is an unprivileged id on the host.
Exits with COMMAND's status (128 + N if signal N killed it).

  --quiet          print no step, only COMMAND's output
  --init           PID 1 is a tiny init that reaps orphans and forwards
                   signals; COMMAND is PID 2
  --time           a time namespace too, whose monotonic and boot-time
                   clocks start at 0 (/proc/uptime)
  --hostname NAME  the container's hostname (default ch16-container)
";

pub const DEFAULT_HOSTNAME: &str = "ch16-container";

/// Namespaces the child is cloned into; the user namespace is created
/// first and owns the others (user_namespaces(7)), whatever the order of
/// the bits. No CLONE_NEWTIME: clone(2) cannot take it (its bit is in
/// CSIGNAL's range); a time namespace needs unshare(2) or clone3(2).
const FLAGS: CloneFlags = CloneFlags::CLONE_NEWUSER
    .union(CloneFlags::CLONE_NEWPID)
    .union(CloneFlags::CLONE_NEWNS)
    .union(CloneFlags::CLONE_NEWUTS)
    .union(CloneFlags::CLONE_NEWIPC)
    .union(CloneFlags::CLONE_NEWNET)
    .union(CloneFlags::CLONE_NEWCGROUP);

/// FLAGS as C, in the order the story tells them (nix's order is the bits').
const FLAG_NAMES: &str = "CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | \
                          CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP";

/// The types in FLAGS, in the order the story prints them.
const TYPES: [&str; 7] = ["user", "pid", "mnt", "uts", "ipc", "net", "cgroup"];

pub static QUIET: AtomicBool = AtomicBool::new(false);
/// The exit status to end with: the command's, once the lesson has it.
static STATUS: AtomicI32 = AtomicI32::new(-1);

/// One step of the story, unless --quiet: through workbook's say!.
#[macro_export]
macro_rules! step {
    ($($arg:tt)*) => {
        if !$crate::quiet() {
            workbook::say!($($arg)*);
        }
    };
}

pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

fn main() -> ExitCode {
    let code = cli::main_with_command(USAGE, &["--hostname"], lesson);
    // The example's own failure wins (a usage error, a refusal, a story it
    // could not write: 2 or 1); otherwise the command's status.
    if code != ExitCode::SUCCESS {
        return code;
    }
    match u8::try_from(STATUS.load(Ordering::Relaxed)) {
        Ok(status) => ExitCode::from(status),
        Err(_) => code,
    }
}

fn lesson(args: Args) -> Result<()> {
    let config = options::options(args.rest())?;
    let status = run(&config)?;
    STATUS.store(status, Ordering::Relaxed);
    Ok(())
}

/// The namespaces of the parent, which the child must not be in.
pub type Host = [NsId; 7];

fn run(config: &Config) -> Result<i32> {
    let me = std::process::id();
    // ANCHOR: parent
    let mut host: Host = [NsId::current("user")?; 7];
    for (id, ns_type) in host.iter_mut().zip(TYPES) {
        *id = NsId::current(ns_type)?;
    }
    step!("process {me} (parent): in {}", list(&host));

    // Blocked before the clone, so that none is lost before the handler
    // knows the child (signals.rs).
    signals::block()?;
    let (maps_tx, maps_rx) = process::channel()?;
    close_on_exec(&[&maps_tx, &maps_rx])?;
    let pid = clone_container(config, &host, &maps_rx, &maps_tx)?;
    let container = Container::new(maps_tx, pid);
    drop(maps_rx);
    signals::forward_to(pid)?;
    step!(
        "process {me} (parent): clone({} | SIGCHLD) -> process {pid}",
        FLAG_NAMES
    );
    // ANCHOR_END: parent

    // ANCHOR: maps
    let uid_line = maps::write(pid)?;
    step!(
        "process {me} (parent): write(fd of \"/proc/{pid}/uid_map\", \"{uid_line}\"), the \
         same for gid_map; then one byte on the pipe: the maps are written"
    );
    container.release()?;
    // ANCHOR_END: maps

    // ANCHOR: wait
    let status = container.wait()?;
    step!("process {me} (parent): process {pid} ended: exit status {status}");
    // ANCHOR_END: wait
    Ok(status)
}

/// `user:[…], pid:[…], …`.
fn list(ids: &[NsId]) -> String {
    ids.iter()
        .map(NsId::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The child's stack: see chapter 3 (1 MiB, pages backed only when touched).
const STACK_SIZE: usize = 1024 * 1024;

// ANCHOR: clone
/// clone(2) the child into the new namespaces, running [`init::container`].
fn clone_container(
    config: &Config,
    host: &Host,
    maps: &Receiver,
    maps_tx: &Sender,
) -> Result<Pid> {
    let mut stack = vec![0u8; STACK_SIZE];
    let _ = std::io::stdout().flush();
    let child: nix::sched::CloneCb = Box::new(|| {
        // Safety: the child's copy of the parent's end of the pipe; its
        // owner is never dropped in the child (which leaves by exec or by
        // returning from here), so it is closed once. Without this the
        // child would hold the pipe open itself, and never see the parent
        // die.
        unsafe { libc::close(maps_tx.as_fd().as_raw_fd()) };
        // Like process::child_life, which would name this process by its
        // PID here, 1: a panic becomes status 101, an error its code.
        let life = panic::catch_unwind(AssertUnwindSafe(|| {
            init::container(config, host, maps)
        }));
        let _ = std::io::stdout().flush();
        (match life {
            Ok(Ok(status)) => status,
            Ok(Err(err)) => {
                let _ = writeln!(std::io::stderr(), "PID 1: {err}");
                i32::from(err.exit_code())
            }
            Err(_) => 101,
        }) as isize
    });
    // Safety: as in chapter 3: this process has one thread (it starts
    // none; the kernel refuses CLONE_NEWUSER to a threaded caller anyway,
    // EINVAL), the child runs on `stack` with its own copy of our memory
    // (no CLONE_VM), and leaves by execve(2) or by returning from the
    // closure, whose panics are caught there.
    unsafe { clone(child, &mut stack, FLAGS, Some(Signal::SIGCHLD as i32)) }
        .call(|| format!("clone({} | SIGCHLD)", FLAG_NAMES))
}
// ANCHOR_END: clone
