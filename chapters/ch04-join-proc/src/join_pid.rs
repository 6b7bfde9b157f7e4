//! Chapter 4's second mode: join the UTS namespace of a process someone
//! else started (`ch04-join-proc PID`), joining its user namespace first when
//! the caller is not root.

use nix::sched::{CloneFlags, setns};
use nix::unistd::Pid;
use workbook::Result;
use workbook::error::Context;
use workbook::ns::{self, NsId};
use workbook::say;
use workbook::userns;

use crate::ns_file::open_ns;

/// Join the UTS namespace of process `pid`, which someone else started.
pub fn join_pid(pid: Pid) -> Result<()> {
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
