//! Asking the kernel whether a namespace lives, without holding it: its
//! file handle (workbook::nsfs_handle), opened and closed at once.

use std::time::Duration;

use workbook::ns::{NsId, Proc};
use workbook::nsfs;
use workbook::nsfs_handle::Handle;
use workbook::{Error, Result, say};

/// How long [`dead`] asks: far beyond the 50 ms seen here, and still a
/// bound on a broken run.
pub const DEADLINE: Duration = Duration::from_secs(5);

/// A namespace as the story names it: its identity and its handle.
#[derive(Debug, Clone, Copy)]
pub struct Named {
    pub ns: NsId,
    pub handle: Handle,
}

/// Name the namespace `link` (`uts`, `pid_for_children`...) of `pid`: its
/// identity by stat(2), its handle by name_to_handle_at(2). Neither keeps it.
pub fn name(pid: nix::unistd::Pid, link: &str) -> Result<Named> {
    let path = Proc::Pid(pid).ns_path(link);
    let ns = NsId::of(Proc::Pid(pid), link)?;
    let handle = Handle::of_path(&path)?;
    Ok(Named { ns, handle })
}

/// Prove `named` alive: open it by handle, check the fd is that namespace
/// (fstat and NS_GET_ID), close it. `held` says by what.
pub fn alive(named: &Named, held: &str) -> Result<()> {
    let me = std::process::id();
    let fd = named.handle.open()?;
    let what = format!("fd of {}", named.ns);
    let ns = NsId::of_fd(named.ns.ns_type, &fd, &what)?;
    let Some(id) = nsfs::id(&fd, &what)? else {
        return Err(Error::refused(
            format!("ioctl({what}, NS_GET_ID, &id): unknown to this kernel"),
            "NS_GET_ID needs Linux 6.18 (`uname -r`)",
        ));
    };
    if ns != named.ns || id != named.handle.id() {
        return Err(Error::refused(
            format!("the handle of {} opened {ns}, NS_GET_ID {id}", named.ns),
            "",
        ));
    }
    drop(fd);
    say!(
        "process {me}: {} -> fd of {ns}, NS_GET_ID {id}; close(fd): alive, held by {held}",
        named.handle.open_call()
    );
    Ok(())
}

// ANCHOR: dead
/// Prove `named` dead: its handle no longer opens (ESTALE). Asked until
/// it fails, within [`DEADLINE`], since the last reference may go after the
/// call that let it go returned. Measured on 6.18.44: a UTS namespace went
/// at once; a user namespace about 35 ms after its keeper was reaped, a PID
/// namespace about 50 ms after, a network namespace about 10 ms after its
/// netlink socket's close(2). The kernel frees a reaped task (and its
/// credentials, which name its user namespace), a dead process's struct
/// pid (which names its PID namespaces) and a netlink socket after an RCU
/// grace period (call_rcu in kernel/exit.c, kernel/pid.c,
/// net/netlink/af_netlink.c): our reading of the source, consistent with
/// the times. No event says when: hence a poll, bounded.
pub fn dead(named: &Named, after: &str) -> Result<()> {
    named.handle.wait_gone(DEADLINE)?;
    say!(
        "process {}: {} -> ESTALE: {} is gone, {after}",
        std::process::id(),
        named.handle.open_call(),
        named.ns
    );
    Ok(())
}
// ANCHOR_END: dead
