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

use std::os::fd::OwnedFd;
use std::process::ExitCode;

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::sched::{CloneFlags, setns};
use nix::sys::stat::Mode;
use nix::unistd::Pid;
use workbook::cli::{self, Args};
use workbook::error::Context;
use workbook::ns::{self, NsId};
use workbook::say;
use workbook::target::Target;
use workbook::userns;
use workbook::{Error, Result};

const USAGE: &str = "\
Usage: ch04-join-proc [PID]

Joins a UTS namespace with setns(2), through the file /proc/PID/ns/uts.

Without PID: starts a target process in a new UTS namespace with the hostname
\"ch04-target\", opens /proc/<target>/ns/uts, calls setns(fd, CLONE_NEWUTS), and
shows that this process is now in the target's namespace and sees its hostname.

With PID: joins the UTS namespace of process PID and prints the hostname seen
there. Root (CAP_SYS_ADMIN) joins any process's namespace. Without root, you
can join the namespaces of a process of your own that sits in a user namespace
you created (e.g. `unshare --user --map-root-user --uts sh`): the example then
joins that user namespace first, with a second setns(2) call, since one such
call joins one namespace.

Read setns(2) and namespaces(7).
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
    let uts_fd = open_ns(target_pid, "uts")?;
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

/// Join the UTS namespace of process `pid`, which someone else started.
fn join_pid(pid: Pid) -> Result<()> {
    // No enter_if_unprivileged here: a user namespace of our own would be a
    // child of ours, and from inside it we could never join a namespace that
    // belongs to the host. We stay where we are, and join the target's user
    // namespace below if we need to.
    let me = std::process::id();

    // ANCHOR: pid_before
    let user_before = NsId::current("user")?;
    let uts_before = NsId::current("uts")?;
    say!(
        "process {me} (joiner): {user_before} {uts_before}; hostname \"{}\"",
        ns::hostname()?
    );
    // ANCHOR_END: pid_before

    // ANCHOR: pid_open
    // Open both files before moving: the descriptors keep naming these
    // namespaces even if process PID exits in the meantime.
    let uts_fd = open_ns(pid, "uts")?;
    let user_fd = open_ns(pid, "user")?;
    let target_uts = NsId::of_fd("uts", &uts_fd, &format!("/proc/{pid}/ns/uts"))?;
    let target_user =
        NsId::of_fd("user", &user_fd, &format!("/proc/{pid}/ns/user"))?;
    say!(
        "process {me} (joiner): open(\"/proc/{pid}/ns/uts\", O_RDONLY | O_CLOEXEC), \
         open(\"/proc/{pid}/ns/user\", O_RDONLY | O_CLOEXEC) -> process {pid} is in \
         {target_user} {target_uts}"
    );
    // ANCHOR_END: pid_open

    // ANCHOR: pid_user
    // setns(2) checks CAP_SYS_ADMIN twice for a UTS namespace: in the user
    // namespace that owns it, and in our own user namespace (setns(2),
    // "Network, IPC, time, and UTS namespaces"). Root passes both. A user
    // whose uid created the target's user namespace already passes the
    // first from outside: the owner, in the parent namespace, "has all
    // capabilities in the namespace" (user_namespaces(7), "Capabilities").
    // It fails the second: no CAP_SYS_ADMIN in its own user namespace. So it
    // joins the target's user namespace first, which makes that namespace
    // its own, with every capability in it. A namespace file names one
    // namespace, so that is a setns(2) call of its own, before the UTS one.
    // (Joining a user namespace also needs a single-threaded caller: EINVAL
    // otherwise, as does "joining" the user namespace we are already in.)
    if userns::has_cap_sys_admin() {
        say!(
            "process {me} (joiner): CAP_SYS_ADMIN here: join the UTS namespace directly"
        );
    } else if target_user == user_before {
        say!(
            "process {me} (joiner): no CAP_SYS_ADMIN, and process {pid} is in our own user \
             namespace: try the UTS namespace directly"
        );
    } else {
        say!(
            "process {me} (joiner): no CAP_SYS_ADMIN, and process {pid} is in another user \
             namespace: join that first"
        );
        setns(&user_fd, CloneFlags::CLONE_NEWUSER).call(|| {
            format!("setns(fd of \"/proc/{pid}/ns/user\", CLONE_NEWUSER)")
        })?;
        let user_after = NsId::current("user")?;
        ns::ensure_joined(target_user, user_after)?;
        say!("process {me} (joiner): setns(user_fd, CLONE_NEWUSER) -> {user_after}");
    }
    // ANCHOR_END: pid_user

    // ANCHOR: pid_setns
    setns(&uts_fd, CloneFlags::CLONE_NEWUTS)
        .call(|| format!("setns(fd of \"/proc/{pid}/ns/uts\", CLONE_NEWUTS)"))?;
    let uts_after = NsId::current("uts")?;
    ns::ensure_joined(target_uts, uts_after)?;
    say!(
        "process {me} (joiner): setns(uts_fd, CLONE_NEWUTS) -> {uts_after}, process {pid}'s; \
         hostname \"{}\"",
        ns::hostname()?
    );
    // ANCHOR_END: pid_setns
    Ok(())
}

/// open(2) `/proc/PID/ns/<ns_type>` read-only, close-on-exec. Reading another
/// process's namespace files needs ptrace read access to it (namespaces(7):
/// a PTRACE_MODE_READ_FSCREDS check): EACCES for another user's process, or
/// for a non-dumpable one of your own.
fn open_ns(pid: Pid, ns_type: &str) -> Result<OwnedFd> {
    let path = format!("/proc/{pid}/ns/{ns_type}");
    match open(
        path.as_str(),
        OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => Ok(fd),
        // No /proc/PID: no process (or thread) has that PID. ENOENT also
        // comes for a zombie: it has released its namespaces at exit.
        Err(errno @ (Errno::ENOENT | Errno::ESRCH)) => Err(Error::refused(
            format!(
                "no process {pid}: open(\"{path}\", O_RDONLY | O_CLOEXEC) failed: {errno}"
            ),
            "check the PID with `ps -p PID`; the process may have exited",
        )),
        Err(errno) => Err(Error::sys(
            format!("open(\"{path}\", O_RDONLY | O_CLOEXEC)"),
            errno,
        )),
    }
}
