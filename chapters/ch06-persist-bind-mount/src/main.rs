//! Chapter 6: keep a namespace alive with no process in it, by bind-mounting
//! its file; join it later through that file.
//!
//! namespaces(7): a namespace lives as long as something refers to it. A
//! process in it is one such reference; an open file descriptor of its nsfs
//! file is another, and so is a bind mount of that file. So after
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
//! Read: namespaces(7) ("The /proc/[pid]/ns/ directory"), mount(2) (MS_BIND),
//! umount(2), setns(2), mount_namespaces(7) (propagation), ioctl_ns(2),
//! statfs(2), proc(5) ("/proc/pid/mountinfo").

mod mountinfo;

use std::fs::{self, OpenOptions};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sched::{CloneFlags, setns, unshare};
use nix::sys::stat::{Mode, SFlag, fstat, lstat, major, minor};
use nix::sys::statfs::{NSFS_MAGIC, fstatfs};
use nix::unistd::{geteuid, gethostname, mkdtemp, sethostname};
use workbook::cli::{self, Args};
use workbook::error::Context;
use workbook::ns::{self, NsId};
use workbook::{Error, Result, process, userns};

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
                          file: never a symlink, a directory, a file with
                          content or a mount point
  join PATH               in a new process, join the UTS namespace bound at
                          PATH (an nsfs file of a UTS namespace) and print
                          its hostname
  remove PATH             unmount PATH, only if it is an nsfs mount point of
                          a UTS namespace; then delete the file under it if
                          it is an empty regular file, as `create` leaves it

create, join and remove act on the host's mount and UTS namespaces and need
root. Read namespaces(7), mount(2), umount(2), setns(2), ioctl_ns(2).
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
    let path = |args: &mut Args| args.required("PATH").map(PathBuf::from);
    match command.as_str() {
        "create" => {
            let target = path(&mut args)?;
            let hostname = cli::hostname(args.next("HOSTNAME")?, DEFAULT_HOSTNAME)?;
            args.finish()?;
            needs_root(
                "create",
                "it bind-mounts onto PATH in the host's mount namespace",
            )?;
            create(&target, &hostname)
        }
        "join" => {
            let target = path(&mut args)?;
            args.finish()?;
            needs_root(
                "join",
                "it joins a UTS namespace that belongs to the host's user namespace",
            )?;
            join(&target)
        }
        "remove" => {
            let target = path(&mut args)?;
            args.finish()?;
            needs_root("remove", "it unmounts PATH in the host's mount namespace")?;
            remove(&target)
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
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .call(|| "mount(none, \"/\", MS_REC | MS_PRIVATE)".into())?;
    println!(
        "process {me}: unshare(CLONE_NEWNS): {mnt_before} -> {mnt_ns}, then mount(none, \"/\", \
         MS_REC | MS_PRIVATE): no mount made here reaches the host, all die with this namespace"
    );
    // ANCHOR_END: private

    // ANCHOR: target
    // Not the slides' /home/acs/my_uts_namespace, but a directory of our own.
    // The target must exist, and be a file: a bind mount covers a file with a
    // file (or a directory with a directory).
    let dir = PersistDir::create()?;
    println!(
        "process {me}: mkdtemp -> {}, and an empty file {} to bind onto",
        dir.path.display(),
        dir.uts_file.display()
    );
    // ANCHOR_END: target

    let host_uts = NsId::current("uts")?;
    println!(
        "process {me} (parent): in {host_uts}, hostname \"{}\"",
        hostname()?
    );

    // ANCHOR: persist
    // Process A makes a UTS namespace and binds it onto the file. It shares
    // our mount namespace (fork(2) without CLONE_NEWNS), so its mount is ours.
    let a = process::fork_child(&[], || {
        persist_new_uts(&dir.uts_file, DEFAULT_HOSTNAME, host_uts, " (A)")
    })?;
    let a_pid = a.pid();
    a.wait()?;
    // A is gone, and no other process ever entered its namespace. Yet the
    // file still is that namespace: stat(2) gives its identity.
    let held = NsId::of_file("uts", &dir.uts_file)?;
    println!("process {me}: reaped process {a_pid}; no process is in its namespace now, yet");
    println!(
        "  stat({}) -> {held} (st_dev {}:{}, st_ino {}): the bind mount holds it",
        dir.uts_file.display(),
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
        let uts_file = &dir.uts_file;
        let ns_fd = open(uts_file, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())
            .call(|| format!("open({}, O_RDONLY)", uts_file.display()))?;
        // setns(2): with an nsfs fd, the flag names the one type expected;
        // the kernel says EINVAL if the file is a namespace of another type.
        setns(&ns_fd, CloneFlags::CLONE_NEWUTS)
            .call(|| format!("setns({}, CLONE_NEWUTS)", uts_file.display()))?;
        println!(
            "process {b} (B): open({}) + setns(fd, CLONE_NEWUTS) -> {}; hostname \"{}\"",
            uts_file.display(),
            NsId::current("uts")?,
            hostname()?
        );
        Ok(())
    })?;
    let b_pid = b.pid();
    b.wait()?;
    println!("process {me}: reaped process {b_pid}");
    // ANCHOR_END: join

    // ANCHOR: release
    // umount2(2) drops the bind mount: the last reference to the namespace,
    // which the kernel then frees. The guard would do the same on an error
    // path; here each step is checked and told.
    dir.unmount()?;
    println!(
        "process {me}: umount2({}): the last reference to {held} is gone; the kernel frees it",
        dir.uts_file.display()
    );
    let removed = dir.remove()?;
    println!("process {me}: removed {}", removed.display());
    println!(
        "process {me} (parent): still in {}, hostname \"{}\"",
        NsId::current("uts")?,
        hostname()?
    );
    // ANCHOR_END: release
    Ok(())
}

// ANCHOR: persist_new_uts
/// In a forked process: move into a new UTS namespace, name it, and bind its
/// nsfs file onto `file`, so it outlives this process. `host_uts` is the
/// namespace the process started in (the parent's), to prove it moved.
fn persist_new_uts(file: &Path, hostname: &str, host_uts: NsId, who: &str) -> Result<()> {
    let me = std::process::id();
    unshare(CloneFlags::CLONE_NEWUTS).call(|| "unshare(CLONE_NEWUTS)".into())?;
    let uts_ns = NsId::current("uts")?;
    // Never sethostname in a namespace we did not just make: it would be the host's.
    ns::ensure_new(host_uts, uts_ns)?;
    sethostname(hostname).call(|| format!("sethostname(\"{hostname}\")"))?;
    println!("process {me}{who}: unshare(CLONE_NEWUTS) -> {uts_ns}; hostname \"{hostname}\"");

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
    println!(
        "process {me}{who}: mount(\"{NS_FILE}\", \"{}\", MS_BIND), then exits",
        file.display()
    );
    Ok(())
}
// ANCHOR_END: persist_new_uts

/// `create PATH [HOSTNAME]`: the namespace persisted on the host, to be
/// joined and removed by later runs.
fn create(path: &Path, hostname: &str) -> Result<()> {
    let me = std::process::id();
    // ANCHOR: create
    let target = CreateTarget::prepare(path)?;
    let file = target.path.clone();
    let host_uts = NsId::current("uts")?;
    // The child stays in the host's mount namespace, so its bind mount is
    // the host's: that is the point of `create`. A trap: if PATH is on a
    // shared mount, the bind mount also propagates to that mount's peers
    // (mount_namespaces(7)). Harmless for a UTS namespace. To persist a
    // *mount* namespace the target must not be on a shared mount (the kernel
    // refuses: a loop of references it could never free).
    let child = process::fork_child(&[], || persist_new_uts(&file, hostname, host_uts, ""))?;
    let pid = child.pid();
    child.wait()?;
    let held = NsId::of_file("uts", &file)?;
    target.keep();
    println!(
        "process {me}: reaped process {pid}; stat({}) -> {held} (st_dev {}:{}, st_ino {}): \
         the bind mount holds it",
        file.display(),
        major(held.dev),
        minor(held.dev),
        held.ino
    );
    // ANCHOR_END: create
    println!("join it:   ch06-persist-bind-mount join {}", file.display());
    println!("           (or: nsenter --uts={} hostname)", file.display());
    println!(
        "remove it: ch06-persist-bind-mount remove {}",
        file.display()
    );
    Ok(())
}

/// `join PATH`: a new process joins the namespace bound at PATH.
fn join(path: &Path) -> Result<()> {
    let me = std::process::id();
    // ANCHOR: join_path
    // The checks run on an open fd, and the child setns(2)es with that same
    // fd (fork(2) copies it): what was checked is what is joined.
    let (ns_fd, uts_ns) = open_uts_ns_file(path)?;
    println!(
        "process {me}: {} is an nsfs file of a UTS namespace: {uts_ns}",
        path.display()
    );
    let host_uts = NsId::current("uts")?;
    println!("process {me}: in {host_uts}, hostname \"{}\"", hostname()?);
    let child = process::fork_child(&[], || {
        setns(&ns_fd, CloneFlags::CLONE_NEWUTS)
            .call(|| format!("setns({}, CLONE_NEWUTS)", path.display()))?;
        println!(
            "process {}: setns({}, CLONE_NEWUTS) -> {}; hostname \"{}\"",
            std::process::id(),
            path.display(),
            NsId::current("uts")?,
            hostname()?
        );
        Ok(())
    })?;
    let pid = child.pid();
    child.wait()?;
    println!(
        "process {me}: reaped process {pid}; still in {}, hostname \"{}\"",
        NsId::current("uts")?,
        hostname()?
    );
    // ANCHOR_END: join_path
    Ok(())
}

/// `remove PATH`: unmount a namespace `create` bound, and delete its file.
fn remove(path: &Path) -> Result<()> {
    let me = std::process::id();
    // ANCHOR: remove
    // Never unmount what is not ours: PATH itself must be a mount point (not
    // a symlink to one), of nsfs, holding a UTS namespace.
    let st = lstat(path).call(|| format!("lstat({})", path.display()))?;
    if file_type(st.st_mode) == SFlag::S_IFLNK {
        return Err(Error::refused(
            format!("{} is a symbolic link, not a mount point", path.display()),
            "give the path of the bind mount itself",
        ));
    }
    let file = fs::canonicalize(path).call(|| format!("realpath({})", path.display()))?;
    match mountinfo::top_mount_at(&file)? {
        None => {
            return Err(Error::refused(
                format!(
                    "{} is not a mount point (not in /proc/self/mountinfo); nothing to unmount",
                    file.display()
                ),
                "remove only undoes `create`: give the PATH you gave it",
            ));
        }
        Some(mount) if mount.fstype != "nsfs" => {
            return Err(Error::refused(
                format!(
                    "{} is a mount point of {}, not of nsfs: not a namespace bind mount, not ours",
                    file.display(),
                    mount.fstype
                ),
                "remove only undoes `create`: give the PATH you gave it",
            ));
        }
        Some(_) => {}
    }
    // Closed at the end of this statement: an open file on a mount makes
    // umount2 fail with EBUSY.
    let uts_ns = open_uts_ns_file(&file)?.1;
    println!(
        "process {me}: {} is an nsfs mount point (in /proc/self/mountinfo) of {uts_ns}",
        file.display()
    );
    // UMOUNT_NOFOLLOW: should PATH become a symlink meanwhile, do not follow it.
    umount2(&file, MntFlags::UMOUNT_NOFOLLOW)
        .call(|| format!("umount2({}, UMOUNT_NOFOLLOW)", file.display()))?;
    println!(
        "process {me}: umount2({}): the bind mount no longer holds {uts_ns}; with no process \
         or fd left in it, the kernel frees it",
        file.display()
    );
    // ANCHOR_END: remove
    if mountinfo::top_mount_at(&file)?.is_some() {
        return Err(Error::refused(
            format!(
                "another mount is still on {}: the file under it stays",
                file.display()
            ),
            "run remove again for the next one, if it is yours",
        ));
    }
    let under = lstat(&file).call(|| format!("lstat({})", file.display()))?;
    if file_type(under.st_mode) == SFlag::S_IFREG && under.st_size == 0 {
        fs::remove_file(&file).call(|| format!("unlink({})", file.display()))?;
        println!("process {me}: removed the empty file {}", file.display());
    } else {
        println!(
            "process {me}: left {} in place: not an empty regular file, not one `create` made",
            file.display()
        );
    }
    Ok(())
}

/// Open `path`, which should be a namespace file, and prove it is one of a
/// UTS namespace. Returns the fd and the namespace's identity.
fn open_uts_ns_file(path: &Path) -> Result<(OwnedFd, NsId)> {
    // O_NONBLOCK: were PATH a FIFO, open(2) would wait for a writer forever.
    let flags = OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY | OFlag::O_CLOEXEC;
    let ns_fd =
        open(path, flags, Mode::empty()).call(|| format!("open({}, O_RDONLY)", path.display()))?;
    // statfs(2): namespace files live on the kernel's nsfs, f_type NSFS_MAGIC.
    let fs = fstatfs(&ns_fd).call(|| format!("fstatfs({})", path.display()))?;
    if fs.filesystem_type() != NSFS_MAGIC {
        return Err(Error::refused(
            format!(
                "{} is not a namespace file: statfs gives f_type {:#x}, not nsfs (NSFS_MAGIC, {:#x})",
                path.display(),
                fs.filesystem_type().0,
                NSFS_MAGIC.0
            ),
            "give a file that `create` bound a namespace onto (or /proc/PID/ns/uts)",
        ));
    }
    // Safety: NS_GET_NSTYPE (ioctl_ns(2), Linux 4.11) takes no argument and
    // returns the namespace's CLONE_NEW* flag as the call's result; `ns_fd`
    // is an open nsfs file for the whole call, and nothing is written to
    // memory of ours.
    let nstype = unsafe { libc::ioctl(ns_fd.as_raw_fd(), libc::NS_GET_NSTYPE) };
    if nstype == -1 {
        return Err(Error::sys(
            format!("ioctl({}, NS_GET_NSTYPE)", path.display()),
            Errno::last(),
        ));
    }
    if nstype != libc::CLONE_NEWUTS {
        let kind = ns::TYPES
            .iter()
            .find(|(_, flag)| flag.bits() == nstype)
            .map_or("unknown", |(name, _)| name);
        return Err(Error::refused(
            format!(
                "{} is a {kind} namespace (ioctl NS_GET_NSTYPE), not a uts one",
                path.display()
            ),
            "this example persists, joins and removes UTS namespaces only",
        ));
    }
    let st = fstat(&ns_fd).call(|| format!("fstat({})", path.display()))?;
    let uts_ns = NsId {
        ns_type: "uts",
        dev: st.st_dev,
        ino: st.st_ino,
    };
    Ok((ns_fd, uts_ns))
}

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

fn hostname() -> Result<String> {
    let name = gethostname().call(|| "gethostname()".into())?;
    Ok(name.to_string_lossy().into_owned())
}

fn file_type(mode: libc::mode_t) -> SFlag {
    SFlag::from_bits_truncate(mode & SFlag::S_IFMT.bits())
}

/// The story's temporary directory and the file in it that the namespace is
/// bound onto. Dropped on an error path, it unmounts the file and removes
/// both, whatever failed. (The mount dies with the story's private mount
/// namespace anyway; the directory on the host's /tmp would not.)
#[derive(Debug)]
struct PersistDir {
    path: PathBuf,
    uts_file: PathBuf,
    removed: bool,
}

impl PersistDir {
    fn create() -> Result<PersistDir> {
        let template = "/tmp/ch06-persist.XXXXXX";
        let path = mkdtemp(template).call(|| format!("mkdtemp({template})"))?;
        let dir = PersistDir {
            uts_file: path.join("uts"),
            path,
            removed: false,
        };
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&dir.uts_file)
            .call(|| format!("open({}, O_CREAT | O_EXCL)", dir.uts_file.display()))?;
        Ok(dir)
    }

    fn unmount(&self) -> Result<()> {
        umount2(&self.uts_file, MntFlags::empty())
            .call(|| format!("umount2({}, 0)", self.uts_file.display()))
    }

    /// Remove the (unmounted) file and the directory; returns the directory.
    fn remove(mut self) -> Result<PathBuf> {
        fs::remove_file(&self.uts_file).call(|| format!("unlink({})", self.uts_file.display()))?;
        fs::remove_dir(&self.path).call(|| format!("rmdir({})", self.path.display()))?;
        self.removed = true;
        Ok(self.path.clone())
    }
}

impl Drop for PersistDir {
    fn drop(&mut self) {
        if self.removed {
            return;
        }
        // MNT_DETACH: unmount even if something still uses it. This is our
        // own file in our own mount namespace; an error means "not mounted".
        let _ = umount2(&self.uts_file, MntFlags::MNT_DETACH);
        let _ = fs::remove_file(&self.uts_file);
        let _ = fs::remove_dir(&self.path);
    }
}

/// `create`'s PATH, checked: ours to mount over. Until [`CreateTarget::keep`],
/// dropping it undoes what `create` did: our mount, if the child made it,
/// and the file, if `create` made it.
#[derive(Debug)]
struct CreateTarget {
    /// Canonical: absolute, no symbolic links, as in mountinfo.
    path: PathBuf,
    created: bool,
    kept: bool,
}

impl CreateTarget {
    /// Refuse a PATH that is not ours to cover; create it if it is missing.
    fn prepare(path: &Path) -> Result<CreateTarget> {
        let me = std::process::id();
        let refuse = |what: &str, hint: &str| {
            Err(Error::refused(
                format!(
                    "refusing to bind a namespace onto {}: it {what}",
                    path.display()
                ),
                hint,
            ))
        };
        let hint = "give a path that does not exist yet: create makes an empty file there";
        let created = match lstat(path) {
            Ok(st) => {
                // lstat(2), not stat: mount(2) would follow a symlink and
                // cover whatever it points to.
                let kind = file_type(st.st_mode);
                if kind == SFlag::S_IFLNK {
                    return refuse("is a symbolic link", hint);
                }
                let canonical =
                    fs::canonicalize(path).call(|| format!("realpath({})", path.display()))?;
                if let Some(mount) = mountinfo::top_mount_at(&canonical)? {
                    let what = format!("is already a mount point (of {})", mount.fstype);
                    return match mount.fstype.as_str() {
                        "nsfs" => refuse(
                            &what,
                            "it holds a namespace already: join it, or remove it first",
                        ),
                        _ => refuse(&what, hint),
                    };
                }
                if kind == SFlag::S_IFDIR {
                    return refuse("is a directory (a namespace file binds onto a file)", hint);
                }
                if kind != SFlag::S_IFREG {
                    return refuse("is not a regular file", hint);
                }
                if st.st_size > 0 {
                    let what = format!(
                        "has {} bytes of content, which the mount would hide",
                        st.st_size
                    );
                    return refuse(&what, hint);
                }
                println!(
                    "process {me}: {} is an empty regular file and no mount point",
                    path.display()
                );
                false
            }
            Err(Errno::ENOENT) => {
                // O_EXCL: fail rather than open a file that appeared meanwhile
                // (and, with O_CREAT, never follow a symlink).
                OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(path)
                    .call(|| format!("open({}, O_CREAT | O_EXCL)", path.display()))?;
                println!(
                    "process {me}: created the empty file {}, the bind mount's target",
                    path.display()
                );
                true
            }
            Err(errno) => return Err(Error::sys(format!("lstat({})", path.display()), errno)),
        };
        let mut target = CreateTarget {
            path: path.to_owned(),
            created,
            kept: false,
        };
        target.path = fs::canonicalize(path).call(|| format!("realpath({})", path.display()))?;
        Ok(target)
    }

    fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for CreateTarget {
    fn drop(&mut self) {
        if self.kept {
            return;
        }
        // No mount was there when we checked, so an nsfs mount there now is
        // the one our child made.
        if let Ok(Some(mount)) = mountinfo::top_mount_at(&self.path) {
            if mount.fstype == "nsfs" {
                let _ = umount2(&self.path, MntFlags::MNT_DETACH | MntFlags::UMOUNT_NOFOLLOW);
            }
        }
        if self.created {
            let _ = fs::remove_file(&self.path);
        }
    }
}
