//! Chapter 14: how namespaces relate, asked of the kernel.
//!
//! Every namespace belongs to a user namespace (its owner), and user and
//! PID namespaces have a parent. ioctl_ns(2) answers these questions on an
//! fd of a `/proc/PID/ns/*` file: NS_GET_USERNS (the owner) and
//! NS_GET_PARENT (the parent) with a new fd, NS_GET_NSTYPE (the type of a
//! namespace an fd came from), NS_GET_OWNER_UID (who created a user
//! namespace) and, since Linux 6.18, NS_GET_ID (an id never given to another
//! namespace until the next boot).
//!
//! The example makes a family of its own (family.rs): a child in a new user
//! namespace that owns new UTS, IPC and PID namespaces, and a grandchild,
//! PID 1 there, one user namespace deeper. Then it walks up from the deepest
//! until the kernel says EPERM (the end of the walk, not an error), meets
//! the other refusals (EINVAL, ENOTTY), and draws the tree (tree.rs) as
//! `lsns -T owner` does; `--lsns` compares it with lsns's. `reuse` (reuse.rs)
//! shows a freed namespace's inode number given to a new one, whose
//! NS_GET_ID differs.
//!
//! Read: ioctl_ns(2), user_namespaces(7), pid_namespaces(7), lsns(8).

mod family;
mod reuse;
mod tree;
mod walk;

use std::process::ExitCode;

use nix::errno::Errno;
use nix::unistd::Pid;
use workbook::cli::{self, Args};
use workbook::ns::NsId;
use workbook::{Error, Result, nsfs, say};

use walk::{ns_id, open, walk_up};

const USAGE: &str = "\
Usage: ch14-namespace-relations [--lsns]
       ch14-namespace-relations reuse

Makes a child in a new user namespace that owns new UTS, IPC and PID
namespaces, and a grandchild one user namespace deeper; then asks the kernel
how they relate (ioctl_ns(2): NS_GET_PARENT up to EPERM, NS_GET_USERNS,
NS_GET_OWNER_UID, NS_GET_NSTYPE, NS_GET_ID) and draws the tree by owner.

  --lsns  also run `lsns --tree=owner` and `--tree=parent` (util-linux
          2.38+) and compare
  reuse   make and free UTS namespaces until one gets a freed one's inode:
          the same st_ino, another NS_GET_ID

Read ioctl_ns(2) and user_namespaces(7).
";

fn main() -> ExitCode {
    cli::main(USAGE, lesson)
}

fn lesson(mut args: Args) -> Result<()> {
    let lsns = args.flag("--lsns");
    let mode = args.next("mode")?;
    args.finish()?;
    match (mode.as_deref(), lsns) {
        (None, _) => story(lsns),
        (Some("reuse"), false) => reuse::reuse(),
        (Some("reuse"), true) => Err(Error::usage("--lsns goes without reuse")),
        (Some(other), _) => Err(Error::usage(format!("unknown mode {other:?}"))),
    }
}

fn story(lsns: bool) -> Result<()> {
    let me = std::process::id();
    // ANCHOR: start
    let user_ns = NsId::current("user")?;
    let self_fd = open("/proc/self/ns/user")?;
    say!(
        "process {me}: in {user_ns} (ns_id {}), in {}, in {} and in {}",
        ns_id(&self_fd, "fd of \"/proc/self/ns/user\"")?,
        NsId::current("uts")?,
        NsId::current("ipc")?,
        NsId::current("pid")?
    );
    let family = family::start()?;
    let (child, grandchild) = (family.child_pid(), family.grandchild);
    // ANCHOR_END: start

    // ANCHOR: top_walk
    // The same walk as the child's, from higher up: it goes one step
    // further, and stops at this process's own user namespace.
    let deep = format!("/proc/{grandchild}/ns/user");
    walk_up(open(&deep)?, &format!("fd of \"{deep}\""), "user")?;
    // ANCHOR_END: top_walk

    // ANCHOR: owner_uid
    // ioctl_ns(2): the uid is the creator's, as the caller's user namespace
    // maps it. The child saw 0 for the same namespace.
    let uid = nsfs::owner_uid(open(&deep)?, &format!("fd of \"{deep}\""))?;
    say!(
        "process {me}: ioctl(fd of \"{deep}\", NS_GET_OWNER_UID, &uid) -> uid {uid}: the \
         creator's uid, as {user_ns} sees it"
    );
    // ANCHOR_END: owner_uid

    // ANCHOR: nstype
    // An fd of unknown origin: the owner of the grandchild's UTS namespace.
    // Only the kernel can say what it is.
    let uts_path = format!("/proc/{grandchild}/ns/uts");
    let owner_fd = nsfs::owner(open(&uts_path)?, &format!("fd of \"{uts_path}\""))?;
    let kind = nsfs::type_name(&owner_fd, "owner_fd")?;
    say!(
        "process {me}: ioctl(fd of \"{uts_path}\", NS_GET_USERNS) -> owner_fd; \
         ioctl(owner_fd, NS_GET_NSTYPE) -> CLONE_NEW{}: a {kind} namespace, {}",
        kind.to_uppercase(),
        NsId::of_fd(kind, &owner_fd, "owner_fd")?
    );
    drop(owner_fd);
    // ANCHOR_END: nstype

    // ANCHOR: pid_walk
    let pid_path = format!("/proc/{grandchild}/ns/pid");
    walk_up(open(&pid_path)?, &format!("fd of \"{pid_path}\""), "pid")?;
    // ANCHOR_END: pid_walk

    // ANCHOR: refusals
    // Only user and PID namespaces have parents (ioctl_ns(2), EINVAL).
    match nsfs::parent(open(&uts_path)?, &format!("fd of \"{uts_path}\"")) {
        Err(err) if err.errno() == Some(Errno::EINVAL) => say!(
            "process {me}: ioctl(fd of \"{uts_path}\", NS_GET_PARENT) -> EINVAL: a UTS \
             namespace has no parent, only an owner (ask NS_GET_USERNS)"
        ),
        Err(err) => return Err(err),
        Ok(_) => return Err("NS_GET_PARENT answered for a UTS namespace".into()),
    }
    // A file that is not a namespace: ENOTTY, the answer to a request the
    // file does not know.
    let status = "/proc/self/status";
    match nsfs::type_flag(open(status)?, &format!("fd of \"{status}\"")) {
        Err(err) if err.errno() == Some(Errno::ENOTTY) => say!(
            "process {me}: ioctl(fd of \"{status}\", NS_GET_NSTYPE) -> ENOTTY: not a \
             namespace file (these requests take an fd of /proc/PID/ns/TYPE)"
        ),
        Err(err) => return Err(err),
        Ok(_) => return Err(format!("NS_GET_NSTYPE answered for {status}").into()),
    }
    // ANCHOR_END: refusals

    // ANCHOR: tree
    let pids = [Pid::from_raw(me as i32), child, grandchild];
    let nodes = tree::build(&pids)?;
    tree::print(&nodes, &pids);
    if lsns {
        tree::compare_with_lsns(&nodes)?;
    }
    family.finish()
    // ANCHOR_END: tree
}
