//! Chapter 5's second mode: join the UTS and network namespaces of a
//! process someone else started (`ch05-join-pidfd PID`), in one call, with
//! its user namespace in the same call when the caller is not root.

use nix::sched::{CloneFlags, setns};
use nix::unistd::Pid;
use workbook::Result;
use workbook::error::Context;
use workbook::ns::{self, NsId, Proc};
use workbook::say;
use workbook::userns;

use crate::pidfd::open_pidfd;

/// Join the UTS and network namespaces of process `pid` in one call.
pub fn join_pid(pid: Pid) -> Result<()> {
    // No enter_if_unprivileged here: from a user namespace of our own we
    // could never join namespaces that belong to the host. If we need the
    // target's user namespace, the setns call below joins it as well.
    let me = std::process::id();

    // ANCHOR: pid_before
    let user_before = NsId::current("user")?;
    let uts_before = NsId::current("uts")?;
    let net_before = NsId::current("net")?;
    say!(
        "process {me} (joiner): {user_before} {uts_before} {net_before}; hostname \"{}\"",
        ns::hostname()?
    );
    // ANCHOR_END: pid_before

    // ANCHOR: pid_open
    // The pidfd pins the process: if it exits and is reaped, setns fails
    // with ESRCH rather than joining whatever process reuses the PID.
    let pidfd = open_pidfd(pid)?;
    let target_user = NsId::of(Proc::Pid(pid), "user")?;
    let target_uts = NsId::of(Proc::Pid(pid), "uts")?;
    let target_net = NsId::of(Proc::Pid(pid), "net")?;
    say!(
        "process {me} (joiner): pidfd_open({pid}, 0) -> a pidfd; /proc/{pid}/ns shows \
         process {pid} in {target_user} {target_uts} {target_net}"
    );
    // ANCHOR_END: pid_open

    // ANCHOR: pid_flags
    // Joining asks for CAP_SYS_ADMIN in the user namespace that owns each
    // namespace. Root has it everywhere. Without it, we gain it by joining a
    // user namespace our own uid created, and with a pidfd that is one more
    // bit in the same call: the kernel joins the user namespace first, then
    // the others with the capabilities it gave us.
    let mut flags = CloneFlags::CLONE_NEWUTS | CloneFlags::CLONE_NEWNET;
    if userns::has_cap_sys_admin() {
        say!("process {me} (joiner): CAP_SYS_ADMIN here: join UTS and NET directly");
    } else if target_user == user_before {
        say!(
            "process {me} (joiner): no CAP_SYS_ADMIN, and process {pid} is in our own user \
             namespace: try UTS and NET directly"
        );
    } else {
        flags |= CloneFlags::CLONE_NEWUSER;
        say!(
            "process {me} (joiner): no CAP_SYS_ADMIN, and process {pid} is in another user \
             namespace: add CLONE_NEWUSER to the same call"
        );
    }
    // ANCHOR_END: pid_flags

    // ANCHOR: pid_setns
    setns(&pidfd, flags).call(|| {
        format!("setns(pidfd of process {pid}, {})", ns::flag_names(flags))
    })?;
    let mut now = Vec::new();
    if flags.contains(CloneFlags::CLONE_NEWUSER) {
        let user_after = NsId::current("user")?;
        ns::ensure_joined(target_user, user_after)?;
        now.push(user_after.to_string());
    }
    let uts_after = NsId::current("uts")?;
    let net_after = NsId::current("net")?;
    ns::ensure_joined(target_uts, uts_after)?;
    ns::ensure_joined(target_net, net_after)?;
    now.push(uts_after.to_string());
    now.push(net_after.to_string());
    say!(
        "process {me} (joiner): setns(pidfd, {}) -> {}, process {pid}'s; hostname \"{}\"",
        ns::flag_names(flags),
        now.join(" "),
        ns::hostname()?
    );
    // ANCHOR_END: pid_setns
    Ok(())
}
