//! Chapter 6: keep a namespace alive with no process in it, by bind-mounting
//! its file; join it later through that file.
//!
//! namespaces(7): a namespace lives as long as something refers to it. A
//! process in it is one such reference; an open file descriptor of its nsfs
//! file is another, and so is a bind mount of that file. (namespaces(7)
//! lists the factors that keep one alive; other kernel objects hold
//! references too, e.g. a socket holds its network namespace.) So after
//! `mount --bind /proc/self/ns/uts FILE` the UTS namespace outlives its last
//! process, and any process that may can join it with open(FILE) and
//! setns(fd, CLONE_NEWUTS). That is how `ip netns add` keeps network
//! namespaces under /run/netns.
//!
//! The slides do it in two lines, mount("/proc/self/ns/uts",
//! "/home/acs/my_uts_namespace", MS_BIND) and open + setns "in another
//! process". What they leave out, and this example does not:
//! - the target must exist and be a file (a bind mount puts a file on a file),
//!   and must be one we may cover: never a symlink or a file with content;
//! - a path on someone's machine is no path for a program: the story below
//!   makes its own temporary directory, in a mount namespace of its own, so
//!   the host never sees the mount;
//! - "lives as long as one process remains" is only the first reference of
//!   several (fds, bind mounts, child namespaces...): here, no process at all
//!   is in the namespace while the bind mount keeps it;
//! - the mount must go again: umount2(2) drops the last reference.
//!
//! Read: namespaces(7) ("The /proc/pid/ns/ directory"), mount(2) (MS_BIND),
//! umount(2), setns(2), mount_namespaces(7) (propagation), ioctl_ns(2),
//! statfs(2), proc(5) ("/proc/pid/mountinfo").

mod create;
mod host;
mod join;
mod remove;

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use nix::fcntl::{OFlag, open};
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sched::{CloneFlags, setns, unshare};
use nix::sys::stat::{Mode, SFlag, major, minor};
use nix::unistd::{geteuid, sethostname};
use workbook::cli::{self, Args};
use workbook::error::Context;
use workbook::ns::{self, NsId};
use workbook::say;
use workbook::{Error, Result, cleanup, mountinfo, process, userns};

const USAGE: &str = "\
Usage: ch06-persist-bind-mount
       ch06-persist-bind-mount create PATH [HOSTNAME]
       ch06-persist-bind-mount join PATH
       ch06-persist-bind-mount remove PATH

A namespace lives as long as something refers to it, and a bind mount of its
nsfs file is such a reference: bind-mount /proc/self/ns/uts onto a file and
the UTS namespace outlives its last process; a new process can join it
later through that file, with open(2) and setns(2).

Without arguments: the whole story, in a mount namespace of its own and a
temporary directory that are gone at the end. Process A makes a UTS
namespace with hostname \"ch06-persisted\", binds it onto a file and exits;
process B joins it through the file. Works without root (in a user namespace
of its own).

  create PATH [HOSTNAME]  bind a new UTS namespace with hostname HOSTNAME
                          (default \"ch06-persisted\") onto PATH, which must
                          not exist (it is created) or be an empty regular
                          file on an ext4, xfs, btrfs, f2fs or tmpfs
                          filesystem: never a symlink, a directory, a kernel
                          pseudo-file, a file with content or a mount point.
                          Before the mount, the file gets create's mark, the
                          xattr trusted.ch06-persist-bind-mount. One create
                          or remove at a time per directory
  join PATH               in a new process, join the UTS namespace bound at
                          PATH (an nsfs file of a UTS namespace) and print
                          its hostname
  remove PATH             undo create, and only create: unmount PATH if the
                          file beneath carries create's mark, then delete the
                          file if create made it, else take the mark off. It
                          also finishes what a killed create or remove left

create, join and remove act on the host's mount and UTS namespaces and need
root (create and remove: of the host, not of a user namespace).
Read namespaces(7), mount(2), umount(2), setns(2), ioctl_ns(2), statfs(2),
flock(2), xattr(7).
";

/// The hostname of the persisted namespace, so a joiner can recognise it.
const DEFAULT_HOSTNAME: &str = "ch06-persisted";

/// The calling process's UTS namespace file: what gets bind-mounted.
const NS_FILE: &str = "/proc/self/ns/uts";

fn main() -> ExitCode {
    cli::main(USAGE, lesson)
}

fn lesson(mut args: Args) -> Result<()> {
    let Some(command) = args.next("subcommand")? else {
        return story();
    };
    let path = |args: &mut Args| match args.required("PATH")? {
        empty if empty.is_empty() => Err(Error::usage("PATH is empty")),
        path => Ok(PathBuf::from(path)),
    };
    match command.as_str() {
        "create" => {
            let target = path(&mut args)?;
            let hostname = cli::hostname(args.next("HOSTNAME")?, DEFAULT_HOSTNAME)?;
            args.finish()?;
            needs_root(
                "create",
                "it bind-mounts onto PATH in the host's mount namespace",
            )?;
            needs_initial_user_ns("create")?;
            create::create(&target, &hostname)
        }
        "join" => {
            let target = path(&mut args)?;
            args.finish()?;
            needs_root(
                "join",
                "it joins a UTS namespace that belongs to the host's user namespace",
            )?;
            join::join(&target)
        }
        "remove" => {
            let target = path(&mut args)?;
            args.finish()?;
            needs_root("remove", "it unmounts PATH in the host's mount namespace")?;
            needs_initial_user_ns("remove")?;
            remove::remove(&target)
        }
        other => Err(Error::usage(format!(
            "unknown subcommand {other:?} (create, join or remove; none for the whole story)"
        ))),
    }
}

/// The story, start to end, without touching the host.
fn story() -> Result<()> {
    // ANCHOR: rootless
    // Not root: a user namespace first. A bind mount then also needs a mount
    // namespace that this user namespace owns, which the next step makes.
    userns::enter_if_unprivileged()?;
    // ANCHOR_END: rootless
    let me = std::process::id();

    // ANCHOR: private
    // A mount namespace of our own, for root and rootless alike, so that the
    // bind mount below never shows in the host's mount table. Its copy of
    // each mount keeps the original's propagation: if `/` is shared (systemd
    // makes it so), a mount under /tmp would propagate to the host's
    // namespace. So, before any other mount, make every mount private,
    // recursively (mount_namespaces(7); unshare(1) does the same). And since
    // the bind mount exists only here, it dies with this mount namespace,
    // that is with the last of our processes: even an example killed
    // halfway leaves no mount behind.
    let mnt_before = NsId::current("mnt")?;
    unshare(CloneFlags::CLONE_NEWNS).call(|| "unshare(CLONE_NEWNS)".into())?;
    let mnt_ns = NsId::current("mnt")?;
    ns::ensure_new(mnt_before, mnt_ns)?;
    mountinfo::make_root_private()?;
    say!(
        "process {me}: unshare(CLONE_NEWNS): {mnt_before} -> {mnt_ns}, then \
         mount(NULL, \"/\", NULL, MS_REC | MS_PRIVATE, NULL): no mount made here \
         reaches the host, all die with this namespace"
    );
    // ANCHOR_END: private

    // ANCHOR: target
    // Not the slides' /home/acs/my_uts_namespace, but a directory of our own
    // with a tmpfs on it, which exists only in this mount namespace: the file
    // lives on it, so even SIGKILL leaves nothing but an empty directory
    // (that a later run removes: see workbook::cleanup). The target must
    // exist, and be a file: a bind mount covers a file with a file (or a
    // directory with a directory).
    let dir = cleanup::TempDir::new("ch06-persist")?;
    let tmpfs_call = format!(
        "mount(\"tmpfs\", \"{}\", \"tmpfs\", 0, \"size=1M\")",
        dir.path().display()
    );
    let tmpfs = cleanup::Mount::new(dir.path(), || {
        mount(
            Some("tmpfs"),
            dir.path(),
            Some("tmpfs"),
            MsFlags::empty(),
            Some("size=1M"),
        )
        .call(|| tmpfs_call.clone())
    })?;
    let uts_file = dir.path().join("uts");
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&uts_file)
        .call(|| {
            format!(
                "open(\"{}\", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666)",
                uts_file.display()
            )
        })?;
    // std's OpenOptions adds O_CLOEXEC, and creates with mode 0666 (less the
    // umask); the descriptor is closed at once: the file is what counts.
    say!(
        "process {me}: mkdtemp(\"{}\") -> \"{}\",\n  {tmpfs_call},\n  \
         open(\"{}\", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666): an empty file \
         to bind onto",
        dir.template().display(),
        dir.path().display(),
        uts_file.display()
    );
    // ANCHOR_END: target

    let host_uts = NsId::current("uts")?;
    say!(
        "process {me} (parent): in {host_uts}, hostname \"{}\"",
        ns::hostname()?
    );

    // ANCHOR: persist
    // Process A makes a UTS namespace and binds it onto the file. It shares
    // our mount namespace (fork(2) without CLONE_NEWNS), so its mount is ours.
    let a = process::fork_child(&[], || {
        persist_new_uts(&uts_file, DEFAULT_HOSTNAME, host_uts, " (A)")
    })?;
    let a_pid = a.pid();
    a.wait()?;
    // A is gone, and no other process ever entered its namespace. Yet the
    // file still is that namespace: stat(2) gives its identity.
    let held = NsId::of_file("uts", &uts_file)?;
    say!(
        "process {me}: reaped process {a_pid}; no process is in its namespace now, yet"
    );
    say!(
        "  stat(\"{}\") -> {held} (st_dev {}:{}, st_ino {}): the bind mount holds it",
        uts_file.display(),
        major(held.dev),
        minor(held.dev),
        held.ino
    );
    // ANCHOR_END: persist

    // ANCHOR: join
    // Process B, a new process that was never in that namespace, joins it
    // through the file: the slides' open + setns "in another process".
    let b = process::fork_child(&[], || {
        let b = std::process::id();
        let uts_file = &uts_file;
        let ns_fd =
            open(uts_file, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty()).call(
                || format!("open(\"{}\", O_RDONLY | O_CLOEXEC)", uts_file.display()),
            )?;
        // setns(2): with an nsfs fd, the flag names the one type expected;
        // the kernel says EINVAL if the file is a namespace of another type.
        setns(&ns_fd, CloneFlags::CLONE_NEWUTS).call(|| {
            format!("setns(fd of \"{}\", CLONE_NEWUTS)", uts_file.display())
        })?;
        say!(
            "process {b} (B): open(\"{0}\", O_RDONLY | O_CLOEXEC),\n  \
             setns(fd of \"{0}\", CLONE_NEWUTS) -> {1}; hostname \"{2}\"",
            uts_file.display(),
            NsId::current("uts")?,
            ns::hostname()?
        );
        Ok(())
    })?;
    let b_pid = b.pid();
    b.wait()?;
    say!("process {me}: reaped process {b_pid}");
    // ANCHOR_END: join

    // ANCHOR: release
    // umount2(2) drops the bind mount: the last reference to the namespace,
    // which the kernel then frees. On an error path the tmpfs guard's
    // umount2(MNT_DETACH) would take it along (a lazy unmount detaches every
    // mount below too, umount(2)); here each step is checked and told.
    umount2(&uts_file, MntFlags::empty())
        .call(|| format!("umount2(\"{}\", 0)", uts_file.display()))?;
    say!(
        "process {me}: umount2(\"{}\", 0): the last reference to {held} is gone; the kernel frees it",
        uts_file.display()
    );
    // The file, its tmpfs and the directory: each guard undoes its own.
    fs::remove_file(&uts_file)
        .call(|| format!("unlink(\"{}\")", uts_file.display()))?;
    tmpfs.unmount()?;
    let removed = dir.path().to_owned();
    dir.remove()?;
    say!(
        "process {me}: unlink(\"{0}\"), umount2(\"{1}\", 0), rmdir(\"{1}\"): \
         nothing is left",
        uts_file.display(),
        removed.display()
    );
    say!(
        "process {me} (parent): still in {}, hostname \"{}\"",
        NsId::current("uts")?,
        ns::hostname()?
    );
    // ANCHOR_END: release
    Ok(())
}

// ANCHOR: persist_new_uts
/// In a forked process: move into a new UTS namespace, name it, and bind its
/// nsfs file onto `file`, so it outlives this process. `host_uts` is the
/// namespace the process started in (the parent's), to prove it moved.
pub(crate) fn persist_new_uts(
    file: &Path,
    hostname: &str,
    host_uts: NsId,
    who: &str,
) -> Result<()> {
    let me = std::process::id();
    unshare(CloneFlags::CLONE_NEWUTS).call(|| "unshare(CLONE_NEWUTS)".into())?;
    let uts_ns = NsId::current("uts")?;
    // Never sethostname in a namespace we did not just make: it would be the host's.
    ns::ensure_new(host_uts, uts_ns)?;
    sethostname(hostname).call(|| format!("sethostname(\"{hostname}\")"))?;
    say!(
        "process {me}{who}: unshare(CLONE_NEWUTS) -> {uts_ns}; hostname \"{hostname}\""
    );

    // The slides' call. /proc/self/ns/uts is a magic link; mount(2) follows
    // it to the nsfs file and mounts that file on `file`.
    mount(
        Some(NS_FILE),
        file,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .call(|| format!("mount(\"{NS_FILE}\", \"{}\", MS_BIND)", file.display()))?;
    say!(
        "process {me}{who}: mount(\"{NS_FILE}\", \"{}\", NULL, MS_BIND, NULL), \
         then exits",
        file.display()
    );
    Ok(())
}
// ANCHOR_END: persist_new_uts

/// The subcommands act on the host's namespaces on purpose, so they do not
/// enter a user namespace when not root: they say so and stop.
fn needs_root(command: &str, why: &str) -> Result<()> {
    if userns::has_cap_sys_admin() {
        return Ok(());
    }
    Err(Error::refused(
        format!(
            "`{command}` needs root: {why}, which takes CAP_SYS_ADMIN there, and this process \
             (uid {}) lacks it",
            geteuid()
        ),
        format!(
            "run it as root (sudo ch06-persist-bind-mount {command} ...); or, without root, run \
             ch06-persist-bind-mount with no arguments: the whole story in namespaces of its own"
        ),
    ))
}

/// create and remove also read and write create's mark, a `trusted.` xattr:
/// xattr(7) allows that only with CAP_SYS_ADMIN in the initial user
/// namespace. Root of a user namespace of its own (`unshare -r`) has
/// CAP_SYS_ADMIN there, yet is refused (EPERM) and reads no mark (ENODATA);
/// it could not mount in the host's mount namespace either. user_namespaces(7):
/// the initial user namespace's uid_map reads "0 0 4294967295". (A user
/// namespace that maps all uids so passes here, and meets EPERM later.)
fn needs_initial_user_ns(command: &str) -> Result<()> {
    let uid_map = fs::read_to_string("/proc/self/uid_map")
        .call(|| "read(fd of \"/proc/self/uid_map\")".into())?;
    let map: Vec<&str> = uid_map.split_whitespace().collect();
    if map == ["0", "0", "4294967295"] {
        return Ok(());
    }
    Err(Error::refused(
        format!(
            "`{command}` needs root of the host: this process is in a user namespace of its \
             own (uid_map \"{}\"), {}, where CAP_SYS_ADMIN does not reach the host's mount \
             namespace or `trusted.` extended attributes",
            map.join(" "),
            NsId::current("user")?
        ),
        format!(
            "run it as root outside any user namespace (sudo ch06-persist-bind-mount \
             {command} ...)"
        ),
    ))
}

pub(crate) fn file_type(mode: libc::mode_t) -> SFlag {
    SFlag::from_bits_truncate(mode & SFlag::S_IFMT.bits())
}
