//! Chapter 15: what keeps a namespace alive, and the kernel's proof it died.
//!
//! namespaces(7), "Namespace lifetime": a namespace lives while a process
//! is in it, an fd or a bind mount holds its file, a namespace below it
//! needs it (a user namespace owns others, a PID namespace parents others),
//! a process points at it as `pid_for_children` or `time_for_children`, or
//! (network) a socket was made in it. Each step here makes a namespace held
//! by one of these, takes its file handle (which holds nothing), lets the
//! holder go, and shows open_by_handle_at(2) fail with ESTALE: the kernel's
//! word that the namespace is gone. Needs Linux 6.18 (NS_GET_ID, handles).
//!
//! Read: namespaces(7), ioctl_ns(2), open_by_handle_at(2), pidfd_getfd(2).

mod calls;
mod keeper;
mod proof;

use std::os::fd::AsRawFd;
use std::process::ExitCode;

use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};
use nix::unistd::Pid;
use workbook::cli::{self, Args};
use workbook::error::Context;
use workbook::ns::{self, NsId};
use workbook::nsfs_handle::socket_net;
use workbook::{Error, Result, cleanup, mountinfo, nsfs, say, userns};

use calls::{
    TMPFS_OPTIONS, copy_socket, made, mount_tmpfs, netlink_socket, open_ns, same,
};
use keeper::Keeper;
use proof::{alive, dead, name};

const USAGE: &str = "\
Usage: ch15-namespace-lifetime

Seven steps. In each, a keeper process makes a namespace held by one more
thing (nothing, an fd, a bind mount, a namespace it owns or parents,
pid_for_children and time_for_children, a socket) and exits; this process,
holding only the namespace's file handle, proves it alive while that thing
holds it, and gone (open_by_handle_at: ESTALE) once it lets go. Needs Linux
6.18. Root runs it directly; anyone else inside a user namespace the example
creates first. Read namespaces(7), \"Namespace lifetime\".
";

fn main() -> ExitCode {
    cli::main(USAGE, lesson)
}

fn lesson(args: Args) -> Result<()> {
    args.finish()?;
    userns::enter_if_unprivileged()?;
    let me = std::process::id();
    say!(
        "process {me}: in each step a keeper process makes a namespace; this one keeps \
         only its file handle, which holds nothing"
    );
    let uts_flag = CloneFlags::CLONE_NEWUTS;

    say!("step 1: a member process");
    // ANCHOR: process
    // 1. A member process, the holder everyone knows. The handle names the
    // namespace by its 64-bit id, which is never reused: not a process
    // list, whose inode numbers the kernel hands out again.
    let (keeper, _) = Keeper::start(|| made(uts_flag, &["uts"], ()))?;
    let k = keeper.pid();
    let uts = name(k, "uts")?;
    say!(
        "process {k} (keeper): unshare(CLONE_NEWUTS) -> {}; process {me}: \
         name_to_handle_at(AT_FDCWD, \"/proc/{k}/ns/uts\", AT_SYMLINK_FOLLOW) -> \
         {{ns_id {}}}",
        uts.ns,
        uts.handle.id()
    );
    alive(&uts, &format!("process {k}, its only member"))?;
    keeper.finish()?;
    dead(&uts, &format!("with process {k}, its last process"))?;
    // ANCHOR_END: process

    say!("step 2: an open fd");
    // ANCHOR: fd
    // 2. An open fd of its nsfs file, after the last process left.
    let (keeper, _) = Keeper::start(|| made(uts_flag, &["uts"], ()))?;
    let uts = name(keeper.pid(), "uts")?;
    say!(
        "process {} (keeper): unshare(CLONE_NEWUTS) -> {}",
        keeper.pid(),
        uts.ns
    );
    let fd = open_ns(&keeper.ns_path("uts"))?;
    keeper.finish()?;
    alive(&uts, "the fd alone (its process has exited)")?;
    drop(fd);
    dead(&uts, "with the fd: close(fd)")?;
    // ANCHOR_END: fd

    say!("step 3: a bind mount");
    // ANCHOR: bind
    // 3. A bind mount of its nsfs file, in a mount namespace of our own made
    // private first, on a file in a tmpfs on our own temporary directory: if
    // this process is killed, the kernel takes the file with the mount
    // namespace, and only an empty directory can be left.
    let mnt_before = NsId::current("mnt")?;
    unshare(CloneFlags::CLONE_NEWNS).call(|| "unshare(CLONE_NEWNS)".into())?;
    ns::ensure_new(mnt_before, NsId::current("mnt")?)?;
    mountinfo::make_root_private()?;
    let dir = cleanup::TempDir::new("ch15-namespace-lifetime")?;
    let tmpfs = mount_tmpfs(dir.path())?;
    let file = dir.path().join("uts");
    std::fs::write(&file, "").call(|| format!("creat(\"{}\")", file.display()))?;
    let (keeper, _) = Keeper::start(|| made(uts_flag, &["uts"], ()))?;
    let uts = name(keeper.pid(), "uts")?;
    say!(
        "process {} (keeper): unshare(CLONE_NEWUTS) -> {}",
        keeper.pid(),
        uts.ns
    );
    let source = keeper.ns_path("uts");
    let call = format!(
        "mount(\"{source}\", \"{}\", NULL, MS_BIND, NULL)",
        file.display()
    );
    let bound = cleanup::Mount::new(&file, || {
        mount(
            Some(source.as_str()),
            &file,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .call(|| call.clone())
    })?;
    say!(
        "process {me}: unshare(CLONE_NEWNS); mount(NULL, \"/\", NULL, MS_REC | MS_PRIVATE, \
         NULL); mount(\"tmpfs\", \"{}\", \"tmpfs\", 0, \"{TMPFS_OPTIONS}\"); {call}",
        dir.path().display()
    );
    keeper.finish()?;
    alive(&uts, &format!("the bind mount on {}", file.display()))?;
    bound.unmount()?;
    dead(
        &uts,
        &format!("with the mount: umount2(\"{}\", 0)", file.display()),
    )?;
    tmpfs.unmount()?;
    dir.remove()?;
    // ANCHOR_END: bind

    say!("step 4: a namespace the user namespace owns");
    // ANCHOR: owner
    // 4. A user namespace, held by a namespace it owns: every namespace
    // holds its owner (ioctl_ns(2), NS_GET_USERNS), here only a UTS one.
    let both = CloneFlags::CLONE_NEWUSER | uts_flag;
    let (keeper, _) = Keeper::start(|| made(both, &["user", "uts"], ()))?;
    let (user, uts) = (name(keeper.pid(), "user")?, name(keeper.pid(), "uts")?);
    let k = keeper.pid();
    say!(
        "process {k} (keeper): unshare(CLONE_NEWUSER | CLONE_NEWUTS) -> {} {}",
        user.ns,
        uts.ns
    );
    let fd = open_ns(&keeper.ns_path("uts"))?;
    keeper.finish()?;
    let owner = nsfs::owner_id(&fd, &format!("fd of {}", uts.ns))?;
    same(owner, user.ns, "NS_GET_USERNS")?;
    say!(
        "process {me}: ioctl(fd of {}, NS_GET_USERNS) -> {owner}",
        uts.ns
    );
    alive(&user, &format!("{}, which it owns, held by an fd", uts.ns))?;
    drop(fd);
    dead(&uts, "with the fd")?;
    // The dead keeper's credentials held it too, for a grace period.
    dead(
        &user,
        &format!("with {}, the last namespace it owned", uts.ns),
    )?;
    // ANCHOR_END: owner

    say!("step 5: a child PID namespace");
    // ANCHOR: parent
    // 5. A PID namespace, held by its child PID namespace: the keeper makes
    // pid:[P] for its children, one of which makes pid:[C] for its own.
    let pid_flag = CloneFlags::CLONE_NEWPID;
    let (keeper, inner) = Keeper::start(|| {
        made(pid_flag, &[], ())?;
        // Its first child, PID 1 of pid:[P], must live: it makes pid:[C].
        let (inner, _) =
            Keeper::start(|| made(pid_flag, &["pid_for_children"], ()))?;
        ns::ensure_new(NsId::current("pid")?, NsId::current("pid_for_children")?)?;
        Ok((inner.pid().as_raw() as u32, inner))
    })?;
    let inner = Pid::from_raw(inner as i32);
    let outer_ns = name(keeper.pid(), "pid_for_children")?;
    let inner_ns = name(inner, "pid_for_children")?;
    say!(
        "process {} (keeper): unshare(CLONE_NEWPID) -> pid_for_children {}; its child, \
         process {inner}: unshare(CLONE_NEWPID) -> pid_for_children {}",
        keeper.pid(),
        outer_ns.ns,
        inner_ns.ns
    );
    let fd = open_ns(&format!("/proc/{inner}/ns/pid_for_children"))?;
    keeper.finish()?;
    let parent_fd = nsfs::parent(&fd, &format!("fd of {}", inner_ns.ns))?;
    let parent = NsId::of_fd("pid", &parent_fd, "NS_GET_PARENT")?;
    drop(parent_fd);
    same(parent, outer_ns.ns, "NS_GET_PARENT")?;
    say!(
        "process {me}: ioctl(fd of {}, NS_GET_PARENT) -> {parent}",
        inner_ns.ns
    );
    alive(
        &outer_ns,
        &format!("{}, its child; no process is in either", inner_ns.ns),
    )?;
    drop(fd);
    dead(&inner_ns, "with the fd")?;
    dead(&outer_ns, &format!("with {}, its last child", inner_ns.ns))?;
    // ANCHOR_END: parent

    say!("step 6: pid_for_children and time_for_children");
    // ANCHOR: for_children
    // 6. pid_for_children and time_for_children: unshare(CLONE_NEWPID or
    // CLONE_NEWTIME) moves no one; the caller only points at the new
    // namespace for its next children. Here it has none.
    let links = ["pid_for_children", "time_for_children"];
    let flags = pid_flag | CloneFlags::from_bits_retain(libc::CLONE_NEWTIME);
    let (keeper, _) = Keeper::start(|| made(flags, &links, ()))?;
    let k = keeper.pid();
    let (pid_ns, time_ns) = (name(k, links[0])?, name(k, links[1])?);
    say!(
        "process {k} (keeper): unshare(CLONE_NEWPID | CLONE_NEWTIME) -> pid_for_children \
         {}, time_for_children {}; its PID 1 has exited",
        pid_ns.ns,
        time_ns.ns
    );
    for (named, own) in [(&pid_ns, "pid"), (&time_ns, "time")] {
        let member = NsId::of(workbook::ns::Proc::Pid(k), own)?;
        if member == named.ns {
            return Err(Error::refused(format!("process {k} is in {member}"), ""));
        }
        alive(
            named,
            &format!("process {k}'s {own}_for_children; it is in {member}"),
        )?;
    }
    keeper.finish()?;
    dead(&pid_ns, &format!("with process {k}, which pointed at it"))?;
    dead(&time_ns, &format!("with process {k}, which pointed at it"))?;
    // ANCHOR_END: for_children

    say!("step 7: a socket");
    // ANCHOR: socket
    // 7. A socket holds the network namespace it was made in, whoever holds
    // the socket. pidfd_getfd(2) copies the keeper's socket into this
    // process; then the keeper, the namespace's last member, exits.
    let (keeper, number) = Keeper::start(|| {
        made(CloneFlags::CLONE_NEWNET, &["net"], ())?;
        let socket = netlink_socket()?;
        Ok((socket.as_raw_fd() as u32, socket))
    })?;
    let k = keeper.pid();
    let net = name(k, "net")?;
    let socket = copy_socket(k, number)?;
    let socket_ns = NsId::of_fd("net", socket_net(&socket, "socket")?, "SIOCGSKNS")?;
    same(socket_ns, net.ns, "SIOCGSKNS")?;
    say!(
        "process {k} (keeper): unshare(CLONE_NEWNET) -> {}; socket(AF_NETLINK, SOCK_RAW, \
         NETLINK_ROUTE); process {me}: pidfd_getfd(pidfd of process {k}, its socket, 0) \
         -> socket; ioctl(socket, SIOCGSKNS) -> {socket_ns}",
        net.ns
    );
    keeper.finish()?;
    alive(&net, "the socket alone (its process has exited)")?;
    drop(socket);
    // netlink_release frees the socket after an RCU grace period: the last
    // reference goes after close(2) returned; dead() asks until it has.
    dead(&net, "with the socket: close(socket)")?;
    // ANCHOR_END: socket
    Ok(())
}
