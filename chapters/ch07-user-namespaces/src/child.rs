//! The child's side of chapter 7: its life in the new user namespace.
//!
//! Before its maps: the overflow ids and every capability. After them: ids
//! made 0 with setgid/setuid, files seen through the map, the host's UTS
//! namespace refusing it, and a UTS namespace of its own where it may set
//! the hostname.

use nix::errno::Errno;
use nix::sched::{CloneFlags, unshare};
use nix::sys::stat::stat;
use nix::unistd::{Gid, Uid, getgid, getuid, setgid, sethostname, setuid};
use workbook::error::Context;
use workbook::ns::{self, NsId};
use workbook::process::{Receiver, Sender};
use workbook::{Error, Result, nsfs, say};

use crate::{CHILD_HOSTNAME, Parent, cap_eff, read_proc};

/// How the output names the fd the ioctls are made on.
const UTS_FD: &str = "fd of \"/proc/self/ns/uts\"";

/// The child's life, in its new user namespace.
pub(crate) fn story(
    parent: Parent,
    ready: &Sender,
    release: &Receiver,
) -> Result<()> {
    let me = std::process::id();
    // ANCHOR: child_before
    if !release.wait()? {
        return Err(Error::refused(
            "the parent closed the pipe before the start",
            "the parent failed first: its own error is printed above",
        ));
    }
    let user_ns = NsId::current("user")?;
    ns::ensure_new(parent.user_ns, user_ns)?;
    say!(
        "process {me} (child): in {user_ns}, a new user namespace; getuid() -> {}, \
         getgid() -> {}: the overflow ids (/proc/sys/kernel/overflowuid is {}), since \
         no map is written yet",
        getuid(),
        getgid(),
        read_proc("/proc/sys/kernel/overflowuid")?.trim()
    );
    say!(
        "process {me} (child): CapEff {}: every capability, in {user_ns}",
        cap_eff("self")?
    );
    ready.notify()?;
    if !release.wait()? {
        return Err(Error::refused(
            "the parent closed the pipe without releasing this child",
            "writing the maps failed in the parent: its own error is printed above",
        ));
    }
    // ANCHOR_END: child_before

    // ANCHOR: child_ids
    // The map translates ids; it does not change this process's own. Its
    // uid is still the one it was cloned with: inside a map that covers it
    // (unprivileged: "0 UID 1") it reads as 0; outside it (root mapped
    // 100000...) as the overflow uid. setgid/setuid to 0 make it the
    // namespace's root either way: they need a mapping for 0 (EINVAL
    // without one, setuid(2)) and CAP_SETUID/CAP_SETGID here, which it has.
    say!(
        "process {me} (child): released; getuid() -> {}, getgid() -> {}",
        getuid(),
        getgid()
    );
    setgid(Gid::from_raw(0)).call(|| "setgid(0)".into())?;
    setuid(Uid::from_raw(0)).call(|| "setuid(0)".into())?;
    say!(
        "process {me} (child): setgid(0), setuid(0) -> getuid() {}, getgid() {}",
        getuid(),
        getgid()
    );
    // ANCHOR_END: child_ids

    // ANCHOR: files
    // user_namespaces(7), "Unmapped user and group IDs": an id with no
    // mapping here reads as the overflow id.
    let root_dir = stat("/").call(|| "stat(\"/\")".into())?;
    let own = stat("/proc/self").call(|| "stat(\"/proc/self\")".into())?;
    let overflow: u32 = read_proc("/proc/sys/kernel/overflowuid")?
        .trim()
        .parse()
        .map_err(|_| "/proc/sys/kernel/overflowuid is not a number")?;
    let why = match root_dir.st_uid == overflow {
        true => "the overflow uid: its owner has no mapping here",
        false => "its owner is mapped here",
    };
    say!(
        "process {me} (child): stat(\"/\") -> st_uid {} ({why}); stat(\"/proc/self\") -> \
         st_uid {}",
        root_dir.st_uid,
        own.st_uid
    );
    // ANCHOR_END: files

    // ANCHOR: host_uts
    // Still in the parent's UTS namespace, which a user namespace above ours
    // owns: our capabilities do not reach it. Setting the name it already
    // has, so that even a kernel that allowed it would change nothing.
    let host_name = ns::hostname()?;
    let owner = match parent.uts_owner {
        Some(owner) => owner.to_string(),
        None => format!("a user namespace above {}", parent.user_ns),
    };
    match sethostname(&host_name) {
        Err(Errno::EPERM) => say!(
            "process {me} (child): sethostname(\"{host_name}\") -> EPERM: {} belongs to \
             {owner}, where this process has no capability",
            parent.uts_ns
        ),
        Ok(()) => {
            return Err(Error::refused(
                format!(
                    "sethostname(\"{host_name}\") succeeded in {}, which belongs to {owner}: \
                     this process should have no capability there",
                    parent.uts_ns
                ),
                "a namespace's owner is checked for CAP_SYS_ADMIN (user_namespaces(7), \
                 \"Interaction of user namespaces and other types of namespaces\"); this \
                 kernel did not: report it with `uname -r`",
            ));
        }
        Err(errno) => {
            return Err(Error::sys(format!("sethostname(\"{host_name}\")"), errno));
        }
    }
    // ioctl_ns(2): the owner of the host's UTS namespace is above our user
    // namespace, outside what we may see: EPERM.
    let uts_fd = open_ns("uts")?;
    match nsfs::owner(&uts_fd, UTS_FD) {
        Err(err) if err.errno() == Some(Errno::EPERM) => say!(
            "process {me} (child): ioctl({UTS_FD}, NS_GET_USERNS) -> EPERM: the owner of {} \
             is above {user_ns}, out of its sight",
            parent.uts_ns
        ),
        Err(err) => return Err(err),
        Ok(_) => {
            return Err(Error::refused(
                format!(
                    "ioctl(fd of \"/proc/self/ns/uts\", NS_GET_USERNS) showed the owner of {}, \
                     a user namespace above {user_ns}",
                    parent.uts_ns
                ),
                "ioctl_ns(2) says EPERM for an owner out of the caller's scope; this kernel \
                 answered: report it with `uname -r`",
            ));
        }
    }
    // ANCHOR_END: host_uts

    // ANCHOR: own_uts
    // A namespace belongs to the user namespace its creator was in at that
    // moment (user_namespaces(7), "Interaction of user namespaces and other
    // types of namespaces"): ours.
    unshare(CloneFlags::CLONE_NEWUTS).call(|| "unshare(CLONE_NEWUTS)".into())?;
    let uts = NsId::current("uts")?;
    ns::ensure_new(parent.uts_ns, uts)?;
    let owner = nsfs::owner_id(open_ns("uts")?, UTS_FD)?;
    if owner != user_ns {
        return Err(Error::refused(
            format!("{uts} belongs to {owner}, not to {user_ns}"),
            "a namespace belongs to the user namespace its creator is in \
             (user_namespaces(7)): was unshare(CLONE_NEWUTS) called before \
             entering {user_ns}?",
        ));
    }
    say!(
        "process {me} (child): unshare(CLONE_NEWUTS) -> {uts}; ioctl({UTS_FD}, NS_GET_USERNS) \
         -> {owner}, this process's user namespace"
    );
    sethostname(CHILD_HOSTNAME)
        .call(|| format!("sethostname(\"{CHILD_HOSTNAME}\")"))?;
    say!(
        "process {me} (child): sethostname(\"{CHILD_HOSTNAME}\") -> 0; hostname \"{}\"",
        ns::hostname()?
    );
    // ANCHOR_END: own_uts
    Ok(())
}

/// open(2) `/proc/self/ns/<ns_type>`, for an ioctl.
fn open_ns(ns_type: &str) -> Result<std::fs::File> {
    let path = format!("/proc/self/ns/{ns_type}");
    std::fs::File::open(&path).call(|| format!("open(\"{path}\", O_RDONLY)"))
}
