//! Persisting a network namespace the way `ip netns add NAME` does
//! (ip-netns(8)): an empty file under a run directory (`/run/netns/NAME`)
//! with the namespace's nsfs file bind-mounted onto it (chapter 6). Here the
//! run directory is a tmpfs on a directory of our own, in our private mount
//! namespace: the host never sees the mount.

use std::fs::{self, OpenOptions};
use std::os::fd::{BorrowedFd, OwnedFd};

use nix::fcntl::{OFlag, open};
use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, setns};
use nix::sys::stat::Mode;
use workbook::cleanup::{Mount, TempDir};
use workbook::error::Context;
use workbook::ns::{self, NsId};
use workbook::{Result, say};
use workbook_netlink::Route;

use crate::net;

/// Bind blue (the namespace this process is in) onto `<run dir>/netns/blue`,
/// close `b_fd`, go back to red, then find blue again through the file alone.
pub fn persist(
    b_fd: OwnedFd,
    net_b: NsId,
    name_b: &str,
    a_fd: BorrowedFd<'_>,
) -> Result<()> {
    let me = std::process::id();
    let dir = TempDir::new("ch10-netns")?;
    let tmpfs_call = format!(
        "mount(\"tmpfs\", \"{}\", \"tmpfs\", 0, \"size=1M\")",
        dir.path().display()
    );
    let tmpfs = Mount::new(dir.path(), || {
        mount(
            Some("tmpfs"),
            dir.path(),
            Some("tmpfs"),
            MsFlags::empty(),
            Some("size=1M"),
        )
        .call(|| tmpfs_call.clone())
    })?;
    let run = dir.path().join("netns");
    fs::create_dir(&run).call(|| format!("mkdir(\"{}\", 0777)", run.display()))?;
    let file = run.join("blue");
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&file)
        .call(|| {
            format!(
                "open(\"{}\", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666)",
                file.display()
            )
        })?;

    // ANCHOR: bind
    // What `ip netns add` does after its unshare(CLONE_NEWNET): bind the
    // caller's own namespace file onto the empty file.
    let source = "/proc/thread-self/ns/net";
    let bind_call = format!(
        "mount(\"{source}\", \"{}\", NULL, MS_BIND, NULL)",
        file.display()
    );
    let bind = Mount::new(&file, || {
        mount(
            Some(source),
            &file,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .call(|| bind_call.clone())
    })?;
    say!(
        "process {me}: mkdtemp(\"{}\") -> \"{}\",\n  {tmpfs_call},\n  mkdir(\"{}\", 0777), an empty \
         file \"{}\",\n  {bind_call}: {net_b} is persisted, as by `ip netns add blue`",
        dir.template().display(),
        dir.path().display(),
        run.display(),
        file.display()
    );
    // ANCHOR_END: bind

    // ANCHOR: leave
    // Back to red, and the last fd of blue closed: only the bind mount holds blue.
    setns(a_fd, CloneFlags::CLONE_NEWNET)
        .call(|| "setns(fd of red, CLONE_NEWNET)".into())?;
    drop(b_fd);
    say!(
        "process {me}: setns(fd of red, CLONE_NEWNET) -> {}, close(fd of blue): no process, fd or \
         socket refers to {net_b} now",
        NsId::current("net")?
    );
    // ANCHOR_END: leave

    // ANCHOR: rejoin
    // `ip netns exec blue ...` joins it through the file (ip-netns(8)).
    let held = open(&file, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())
        .call(|| format!("open(\"{}\", O_RDONLY | O_CLOEXEC)", file.display()))?;
    setns(&held, CloneFlags::CLONE_NEWNET)
        .call(|| format!("setns(fd of \"{}\", CLONE_NEWNET)", file.display()))?;
    let now = NsId::current("net")?;
    ns::ensure_joined(net_b, now)?;
    say!(
        "process {me}: open(\"{0}\", O_RDONLY | O_CLOEXEC),\n  setns(fd of \"{0}\", \
         CLONE_NEWNET) -> {now}: blue, with its link and its counters",
        file.display()
    );
    let mut route = Route::open()?;
    net::show_link("blue", &route.link(name_b)?);
    let (rx, tx) = route.link(name_b)?.packets();
    say!("    blue: {name_b} rx_packets {rx}, tx_packets {tx}");
    drop(route);
    setns(a_fd, CloneFlags::CLONE_NEWNET)
        .call(|| "setns(fd of red, CLONE_NEWNET)".into())?;
    drop(held);
    say!(
        "process {me}: setns(fd of red, CLONE_NEWNET) -> {}, close(fd of \"{}\"): back in red",
        NsId::current("net")?,
        file.display()
    );
    // ANCHOR_END: rejoin

    // ANCHOR: remove
    // `ip netns delete`: unmount and unlink. Blue's last reference is gone.
    bind.unmount()?;
    fs::remove_file(&file).call(|| format!("unlink(\"{}\")", file.display()))?;
    fs::remove_dir(&run).call(|| format!("rmdir(\"{}\")", run.display()))?;
    tmpfs.unmount()?;
    let removed = dir.path().to_owned();
    dir.remove()?;
    say!(
        "process {me}: umount2(\"{0}\", 0), unlink(\"{0}\"), rmdir(\"{1}\"),\n  \
         umount2(\"{2}\", 0), rmdir(\"{2}\"): nothing is left, and nothing refers to {net_b}",
        file.display(),
        run.display(),
        removed.display()
    );
    // ANCHOR_END: remove
    Ok(())
}
