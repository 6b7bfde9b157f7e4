//! Exercise 8 (chapter 4, joining through /proc): without root, user first.
//!
//! Write [`join_user_then_uts`]: move the calling process into the UTS
//! namespace of process `pid`, and into its user namespace when that is not
//! already the caller's. It must work for root, and for a user without
//! privilege whose target sits in a user namespace that user created (as
//! `unshare --user --map-root-user --uts` makes).
//!
//! Read: setns(2), user_namespaces(7) ("Capabilities"), namespaces(7).
//!
//! Why the user namespace first: setns(2) ("Network, IPC, time, and UTS
//! namespaces") checks CAP_SYS_ADMIN twice, in the user namespace that owns
//! the UTS namespace and in the caller's own user namespace. If your uid
//! created the target's user namespace, you pass the first check without
//! joining anything: "A process that resides in the parent of the user
//! namespace and whose effective user ID matches the owner of the namespace
//! has all capabilities in the namespace" (user_namespaces(7),
//! "Capabilities"). You fail the second: in your own user namespace, the
//! host's, you have no CAP_SYS_ADMIN, so joining the UTS namespace first
//! fails with EPERM. Joining the target's user namespace makes it your own,
//! and there you hold every capability; then the UTS join passes both checks.
//!
//! The traps: a namespace file names one namespace, so that is two setns(2)
//! calls, two descriptors: open both before moving. Joining the user
//! namespace you are already in fails with EINVAL: compare identities first.
//! The kernel refuses CLONE_NEWUSER to a process with threads (EINVAL; the
//! checks run your code on a process with one). And there is no way back:
//! after joining a user namespace you hold no capability in the one you
//! left, so even root can then no longer join a namespace the host's user
//! namespace owns (setns(2), "User namespaces": only a descendant user
//! namespace can be joined). Here the UTS namespace belongs to the target's
//! user namespace, so joining that first is right for root too.
//!
//! Errors come back as `workbook::Error`, never as a panic: after a nix
//! call, `.call(|| format!("setns(/proc/{pid}/ns/user, CLONE_NEWUSER)"))?`
//! returns its error naming the call (a bare `?` works too, but its error
//! cannot say which call failed); `Err(format!("...").into())` refuses in
//! your own words.
//!
//! Check your work with `cargo test -p ex08-join-user-first` (the root cases too:
//! `cargo test-root -p ex08-join-user-first`); stuck, `cargo workbook hint ex08`.
//! The check, not the solution, is the teacher: it says what is still
//! wrong. The answer is in `solutions/ex08-join-user-first/src/`; `cargo workbook
//! solution ex08` shows it once this exercise passes.
// STUB: #![allow(unused_imports)] // some imports are for the code you will write

use std::os::fd::OwnedFd;

use nix::fcntl::{OFlag, open};
use nix::sched::{CloneFlags, setns};
use nix::sys::stat::Mode;
use nix::unistd::Pid;
use workbook::Result;
use workbook::error::Context;
use workbook::ns::{self, NsId};

/// Join the UTS namespace of process `pid`, and first its user namespace if
/// that is not the caller's.
pub fn join_user_then_uts(pid: Pid) -> Result<()> {
    // STUB: todo!("open /proc/{pid}/ns/user and uts; setns user (if not ours), then uts")
    // BEGIN SOLUTION
    // Both descriptors first: they keep naming these namespaces whatever
    // happens to process `pid` meanwhile.
    let user_fd = open_ns(pid, "user")?;
    let uts_fd = open_ns(pid, "uts")?;
    let their_user = NsId::of_fd("user", &user_fd, &format!("/proc/{pid}/ns/user"))?;
    let their_uts = NsId::of_fd("uts", &uts_fd, &format!("/proc/{pid}/ns/uts"))?;
    if their_user != NsId::current("user")? {
        setns(&user_fd, CloneFlags::CLONE_NEWUSER)
            .call(|| format!("setns(/proc/{pid}/ns/user, CLONE_NEWUSER)"))?;
        ns::ensure_joined(their_user, NsId::current("user")?)?;
    }
    setns(&uts_fd, CloneFlags::CLONE_NEWUTS)
        .call(|| format!("setns(/proc/{pid}/ns/uts, CLONE_NEWUTS)"))?;
    ns::ensure_joined(their_uts, NsId::current("uts")?)
    // END SOLUTION
}

// BEGIN SOLUTION
/// open(2) `/proc/PID/ns/<ns_type>`, read-only and close-on-exec.
fn open_ns(pid: Pid, ns_type: &str) -> Result<OwnedFd> {
    let path = format!("/proc/{pid}/ns/{ns_type}");
    open(
        path.as_str(),
        OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .call(|| format!("open({path:?}, O_RDONLY | O_CLOEXEC)"))
}
// END SOLUTION
