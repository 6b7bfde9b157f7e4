//! Undo-on-drop guards for what an example makes on the machine: a temporary
//! directory ([`TempDir`]), a mount ([`Mount`]) and a cgroup ([`Cgroup`],
//! emptied into its parent, then removed). Each is undone on every
//! path: by its explicit method on the story's path (which reports errors),
//! when dropped on an error path, and when the process is interrupted.
//!
//! Interrupted: SIGINT (Ctrl-C), SIGTERM and SIGHUP run a handler that undoes
//! every guard of this process, then restores the default action and raises
//! the signal again, so the process still dies of it (the shell and the
//! parent see what they expect). A signal handler may only call
//! async-signal-safe functions (signal-safety(7)): no allocation, no lock, no
//! stdio. So each guard prepares its path as a C string in advance and
//! registers it in a static table of atomics; the handler only reads the
//! table and calls getpid(2), umount2(2), rmdir(2), sigaction(2) and
//! raise(3), and for a cgroup open(2), read(2), write(2) and close(2) on
//! buffers on its stack. All are in signal-safety(7)'s list but umount2, which is
//! Linux's own: in glibc and musl it is the bare system call, with no lock
//! and no allocation, as safe as rmdir. It acts only when
//! getpid(2) is the process that registered the entry: a forked child (ch02's
//! witness) inherits the table and must not undo its parent's things.
//!
//! SIGPIPE: Rust programs start with it ignored, so a write to a closed pipe
//! returns EPIPE instead of killing the process; `say!` remembers it, the
//! story runs to its end, the guards undo everything, and only then does
//! `cli::main` die of SIGPIPE. A SIGPIPE sent with kill(1) is ignored.
//!
//! SIGKILL cannot be caught (signal(7)): nothing of this process runs. What
//! it can and cannot leave:
//! - a mount: never, provided the example mounts only in a mount namespace of
//!   its own (ch02, ch06's story). The namespace, and every mount in it, is
//!   freed when its last process exits, however it exits.
//! - a temporary directory: yes, one empty directory per [`TempDir`], if
//!   SIGKILL comes between mkdtemp(3) and rmdir(2) (whatever was written in
//!   it lived on a tmpfs of that private mount namespace). Its name carries
//!   its owner: `<chapter>.<pid namespace inode>.<pid>.<start time>.XXXXXX`
//!   ([`crate::owner`]). [`TempDir::new`] first removes such directories of
//!   the same chapter whose owner is provably gone (same PID namespace as
//!   ours, and no process with that PID and that start time, field 22 of
//!   /proc/PID/stat), that are ours (owner uid = our euid), and that are
//!   empty (rmdir(2), never a recursive removal), and says so on stderr.
//! - a cgroup ([`Cgroup`]): not in the common case. Before its mkdir(2),
//!   [`Cgroup::new`] forks a guardian, a process outside the cgroup that
//!   waits for its parent's end (a pidfd, pidfd_open(2)); if the parent ends
//!   without having removed the cgroup and said so, the guardian moves what
//!   is left in it to the parent cgroup and removes it. Only if both are
//!   killed (SIGKILL to the process group) is the cgroup left; the next run
//!   removes it, as for a [`TempDir`].
//! - files written outside a private tmpfs, or mounts made in a namespace that
//!   outlives the process: the examples make none.

use std::ffi::{CString, c_char};
use std::fs;
use std::io::Write;
use std::os::fd::FromRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::Once;
use std::sync::atomic::{AtomicI32, AtomicPtr, AtomicU8, Ordering};

use nix::mount::{MntFlags, umount2};
use nix::sys::signal::{
    SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal, sigaction,
    sigprocmask,
};
use nix::unistd::mkdtemp;

use crate::error::{Context, Error, Result};
use crate::owner::{self, Owner};
use crate::process::{self, Child, Receiver, Sender};

/// The signals after which the guards are undone.
const SIGNALS: [Signal; 3] = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP];

/// What the handler does with an entry of the table.
const FREE: u8 = 0;
/// Taken, being filled in: the handler skips it.
const FILLING: u8 = 1;
const UNMOUNT: u8 = 2;
const RMDIR: u8 = 3;
/// Move every process out of a cgroup into its parent, then rmdir(2) it.
const CGROUP: u8 = 4;

/// One registered undo: an action, a path (a leaked `CString`) and the PID of
/// the process it belongs to.
struct Entry {
    action: AtomicU8,
    owner: AtomicI32,
    path: AtomicPtr<c_char>,
}

/// More than any example holds at once (ch06's story holds two).
const ENTRIES: usize = 16;

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Entry = Entry {
    action: AtomicU8::new(FREE),
    owner: AtomicI32::new(0),
    path: AtomicPtr::new(ptr::null_mut()),
};
static TABLE: [Entry; ENTRIES] = [EMPTY; ENTRIES];

/// A handle on a registered entry: its index in the table.
#[derive(Debug)]
struct Registered(usize);

fn register(action: u8, path: &Path) -> Result<Registered> {
    install_handler();
    let c_path = CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        Error::refused(format!("{} contains a NUL byte", path.display()), "")
    })?;
    for (index, entry) in TABLE.iter().enumerate() {
        if entry
            .action
            .compare_exchange(FREE, FILLING, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            entry.path.store(c_path.into_raw(), Ordering::SeqCst);
            // Safety: getpid(2) cannot fail.
            entry
                .owner
                .store(unsafe { libc::getpid() }, Ordering::SeqCst);
            entry.action.store(action, Ordering::SeqCst);
            return Ok(Registered(index));
        }
    }
    Err(Error::refused(
        format!("more than {ENTRIES} things to clean up at once"),
        "a bug in the example: it should undo what it made before making more",
    ))
}

impl Drop for Registered {
    fn drop(&mut self) {
        let entry = &TABLE[self.0];
        // First the action, so a handler that runs from here on skips the
        // entry; then the path can be freed. One thread, so the handler can
        // only run between two of these steps, never during one.
        entry.action.store(FILLING, Ordering::SeqCst);
        let path = entry.path.swap(ptr::null_mut(), Ordering::SeqCst);
        if !path.is_null() {
            // Safety: made by `CString::into_raw` in `register`, and taken
            // out of the table by the swap above, so freed once.
            drop(unsafe { CString::from_raw(path) });
        }
        entry.action.store(FREE, Ordering::SeqCst);
    }
}

/// Install the handler once, for each of [`SIGNALS`] whose action is still
/// the default: a signal someone chose to ignore (nohup, `&` in a script)
/// stays ignored.
fn install_handler() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let mut mask = SigSet::empty();
        for signal in SIGNALS {
            mask.add(signal);
        }
        // While the handler runs, the other signals wait: one cleanup.
        let action = SigAction::new(
            SigHandler::Handler(on_signal),
            SaFlags::SA_RESTART,
            mask,
        );
        for signal in SIGNALS {
            // Safety: `on_signal` calls only async-signal-safe functions
            // (signal-safety(7)) and reads the table through atomics.
            let old = unsafe { sigaction(signal, &action) };
            if let Ok(old) = old {
                if matches!(old.handler(), SigHandler::SigIgn) {
                    // Safety: restoring the action that was there.
                    let _ = unsafe { sigaction(signal, &old) };
                }
            }
        }
    });
}

/// The handler: undo this process's entries (mounts first, then
/// directories), then die of the signal as if there had been no handler.
extern "C" fn on_signal(signal: libc::c_int) {
    undo_all();
    // Safety: sigaction(2) and raise(3) are async-signal-safe
    // (signal-safety(7)); `default` is a zeroed sigaction with SIG_DFL (0)
    // as its handler. The signal is blocked while its handler runs, so the
    // raised one is delivered, with the default action (death), as soon as
    // this handler returns.
    unsafe {
        let mut default: libc::sigaction = std::mem::zeroed();
        default.sa_sigaction = libc::SIG_DFL;
        libc::sigaction(signal, &default, ptr::null_mut());
        libc::raise(signal);
    }
}

/// Only async-signal-safe work: atomics, getpid, umount2, rmdir (see the
/// module's doc).
fn undo_all() {
    // Safety: getpid(2) cannot fail and is async-signal-safe.
    let me = unsafe { libc::getpid() };
    for action in [UNMOUNT, CGROUP, RMDIR] {
        for entry in &TABLE {
            if entry.action.load(Ordering::SeqCst) != action
                || entry.owner.load(Ordering::SeqCst) != me
            {
                continue;
            }
            let path = entry.path.load(Ordering::SeqCst);
            if path.is_null() {
                continue;
            }
            // Safety: a NUL-terminated string registered before the action
            // was set, and freed only after the action is cleared, which the
            // handler cannot interleave with (one thread).
            unsafe {
                match action {
                    UNMOUNT => libc::umount2(path, libc::MNT_DETACH),
                    // A child may move itself in between the read of
                    // cgroup.procs and the rmdir (EBUSY then): a few
                    // rounds catch it; it moves only once.
                    CGROUP => {
                        let mut removed = -1;
                        for _ in 0..ROUNDS {
                            empty_cgroup_raw(path);
                            removed = libc::rmdir(path);
                            if removed == 0 {
                                break;
                            }
                        }
                        removed
                    }
                    _ => libc::rmdir(path),
                };
            }
        }
    }
}

/// Run `make` with SIGINT, SIGTERM and SIGHUP blocked, so that what it makes
/// and its registration happen together or not at all: a signal waits until
/// the guard exists, and its handler then undoes it.
fn with_signals_blocked<T>(make: impl FnOnce() -> Result<T>) -> Result<T> {
    let mut set = SigSet::empty();
    for signal in SIGNALS {
        set.add(signal);
    }
    let mut old = SigSet::empty();
    sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), Some(&mut old))
        .call(|| "sigprocmask(SIG_BLOCK)".into())?;
    let made = make();
    let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
    made
}

/// A directory made by mkdtemp(3) under `std::env::temp_dir()` ($TMPDIR, or
/// /tmp), removed with rmdir(2) on every path. Never removed recursively: if
/// it is not empty, what is in it is not ours to delete blindly.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
    /// What mkdtemp(3) was given, for output that names the call.
    template: PathBuf,
    // Dropped after `path` is used in `drop`; unregisters.
    entry: Option<Registered>,
}

impl TempDir {
    /// Remove what dead runs of `chapter` left (see the module's doc), then
    /// make `$TMPDIR/<chapter>.<pidns>.<pid>.<start>.XXXXXX`.
    pub fn new(chapter: &str) -> Result<TempDir> {
        let me = Owner::me()?;
        let parent = std::env::temp_dir();
        remove_dead_runs(&parent, chapter);
        let template = me.template(&parent, chapter);
        with_signals_blocked(|| {
            let path = mkdtemp(&template)
                .call(|| format!("mkdtemp(\"{}\")", template.display()))?;
            match register(RMDIR, &path) {
                Ok(entry) => Ok(TempDir {
                    path,
                    template,
                    entry: Some(entry),
                }),
                Err(err) => {
                    let _ = fs::remove_dir(&path);
                    Err(err)
                }
            }
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The template the directory was made from: its path with `XXXXXX`
    /// where mkdtemp(3) put six random characters.
    pub fn template(&self) -> &Path {
        &self.template
    }

    /// rmdir(2), with its error.
    pub fn remove(mut self) -> Result<()> {
        let removed = fs::remove_dir(&self.path)
            .call(|| format!("rmdir(\"{}\")", self.path.display()));
        // Removed or not, the story has reported it: no second try.
        self.entry.take();
        removed
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if self.entry.is_some() {
            let _ = fs::remove_dir(&self.path);
            self.entry.take();
        }
    }
}

/// A mount this process made on `target`, in a mount namespace of its own,
/// unmounted on every path.
#[derive(Debug)]
pub struct Mount {
    target: PathBuf,
    entry: Option<Registered>,
}

impl Mount {
    /// Call `mount` (which makes the mount on `target`) and take charge of
    /// the result, with the signals held off in between so that no signal
    /// finds the mount made and not yet known.
    pub fn new(target: &Path, mount: impl FnOnce() -> Result<()>) -> Result<Mount> {
        with_signals_blocked(|| {
            let entry = register(UNMOUNT, target)?;
            match mount() {
                Ok(()) => Ok(Mount {
                    target: target.to_owned(),
                    entry: Some(entry),
                }),
                // `entry` is dropped: nothing to unmount.
                Err(err) => Err(err),
            }
        })
    }

    /// umount2(target, 0), with its error.
    pub fn unmount(mut self) -> Result<()> {
        let done = umount2(&self.target, MntFlags::empty())
            .call(|| format!("umount2(\"{}\", 0)", self.target.display()));
        if done.is_ok() {
            self.entry.take();
        }
        done
    }

    /// umount2(target, MNT_DETACH), with its error: the mount and every
    /// mount below it leave the namespace at once (umount(2)).
    pub fn detach(mut self) -> Result<()> {
        let done = umount2(&self.target, MntFlags::MNT_DETACH)
            .call(|| format!("umount2(\"{}\", MNT_DETACH)", self.target.display()));
        if done.is_ok() {
            self.entry.take();
        }
        done
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        if self.entry.is_some() {
            // MNT_DETACH: gone from the namespace now, with every mount
            // below it, even if something still uses it.
            let _ = umount2(&self.target, MntFlags::MNT_DETACH);
            self.entry.take();
        }
    }
}

/// A cgroup this process made (a directory in a cgroup2 hierarchy),
/// removed on every path: first every process in it is moved to its parent
/// (a cgroup with processes cannot be removed: rmdir(2) gives EBUSY,
/// cgroups(7), "Creating cgroups and moving processes"), then rmdir(2).
/// A guardian process removes it if this one is killed (SIGKILL) first; and
/// it is named like a [`TempDir`], `<stem>.<pid namespace>.<pid>.<start>.XXXXXX`,
/// so that a later run removes one left when both were killed.
#[derive(Debug)]
pub struct Cgroup {
    path: PathBuf,
    template: PathBuf,
    entry: Option<Registered>,
    guardian: Option<Guardian>,
}

impl Cgroup {
    /// Remove the cgroups that dead runs of `stem` left in the cgroup
    /// directory `parent` (see [`owner::left_by_the_gone`]), fork the
    /// guardian, then mkdtemp(3) `parent/<stem>.<owner>.XXXXXX`: a mkdir(2)
    /// in a cgroup filesystem makes a child cgroup. Forks: the process must
    /// have one thread ([`process::fork_child`]).
    pub fn new(parent: &Path, stem: &str) -> Result<Cgroup> {
        let me = Owner::me()?;
        remove_dead_cgroups(parent, stem);
        let template = me.template(parent, stem);
        // Before the mkdir: from the moment the cgroup exists, it has a
        // guardian. On an error below, dropping it releases it.
        let guardian = Guardian::start(parent, stem, me)?;
        with_signals_blocked(|| {
            let path = mkdtemp(&template)
                .call(|| format!("mkdtemp(\"{}\")", template.display()))?;
            match register(CGROUP, &path) {
                Ok(entry) => Ok(Cgroup {
                    path,
                    template,
                    entry: Some(entry),
                    guardian: Some(guardian),
                }),
                Err(err) => {
                    let _ = fs::remove_dir(&path);
                    Err(err)
                }
            }
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The template it was made from, for output that names the call.
    pub fn template(&self) -> &Path {
        &self.template
    }

    /// The guardian's PID: the process that removes the cgroup if this one
    /// ends without doing it.
    pub fn guardian(&self) -> Option<nix::unistd::Pid> {
        self.guardian.as_ref().map(Guardian::pid)
    }

    /// Move what is left in it to its parent, then rmdir(2), with errors;
    /// then release the guardian and wait for it. If the cgroup could not be
    /// removed, the guardian stays, and tries again when this process ends.
    pub fn remove(mut self) -> Result<()> {
        let emptied = empty_cgroup(&self.path);
        let removed = fs::remove_dir(&self.path)
            .call(|| format!("rmdir(\"{}\")", self.path.display()));
        self.entry.take();
        let guardian = self.guardian.take();
        let released = match (&removed, guardian) {
            (Ok(()), Some(guardian)) => guardian.release(),
            (Err(_), Some(guardian)) => {
                guardian.stay();
                Ok(())
            }
            (_, None) => Ok(()),
        };
        emptied.and(removed).and(released)
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        if self.entry.is_some() {
            let _ = empty_cgroup(&self.path);
            let removed = fs::remove_dir(&self.path);
            self.entry.take();
            if let (Err(_), Some(guardian)) = (removed, self.guardian.take()) {
                guardian.stay();
            }
        }
        if let Some(guardian) = self.guardian.take() {
            let _ = guardian.release();
        }
    }
}

/// How many times a cgroup is emptied and rmdir(2) tried, by the signal
/// handler and by the guardian: a child may move itself in between the read
/// of cgroup.procs and the rmdir (EBUSY then); it moves only once.
const ROUNDS: usize = 4;

/// A child process, forked before the cgroup is made and so outside it,
/// that outlives a SIGKILL of its parent. It waits for the first of: a byte
/// from the parent (released: the cgroup is gone, nothing to do), or the
/// parent's end, seen on a pidfd of it (readable when it exits,
/// pidfd_open(2)). On the parent's end it removes every cgroup in `parent`
/// named after the parent (`<stem>.<parent's owner>.XXXXXX`: only the parent
/// makes such names) with [`remove_cgroup`], and says so on stderr.
#[derive(Debug)]
struct Guardian {
    release: Option<Sender>,
    child: Option<Child>,
}

impl Guardian {
    fn start(parent: &Path, stem: &str, owner: Owner) -> Result<Guardian> {
        // A pidfd of this process, opened here and inherited: the guardian
        // watches the right process even if we die before it runs.
        // Safety: pidfd_open(2) takes a PID and flags; it returns a new
        // descriptor, owned from here on, or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, owner.pid, 0) };
        if fd < 0 {
            return Err(Error::sys(
                format!("pidfd_open({}, 0)", owner.pid),
                nix::errno::Errno::last(),
            ));
        }
        // Safety: a descriptor just returned to us, owned by nothing else.
        let pidfd = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as i32) };
        let (release, released) = process::channel()?;
        let parent = parent.to_owned();
        let stem = stem.to_owned();
        let child = process::fork_child(&[&release], || {
            guard(&pidfd, &released, &parent, &stem, owner)
        })?;
        Ok(Guardian {
            release: Some(release),
            child: Some(child),
        })
    }

    fn pid(&self) -> nix::unistd::Pid {
        self.child
            .as_ref()
            .map_or(nix::unistd::Pid::from_raw(0), Child::pid)
    }

    /// The cgroup is gone: tell the guardian, and wait for it.
    fn release(mut self) -> Result<()> {
        let told = self.release.take().map_or(Ok(()), |s| s.notify());
        let waited = self.child.take().map_or(Ok(()), Child::wait);
        told.and(waited)
    }

    /// The cgroup is still there: leave the guardian running, to remove it
    /// when this process ends (and reaped by whoever adopts it then).
    fn stay(self) {
        std::mem::forget(self);
    }
}

impl Drop for Guardian {
    fn drop(&mut self) {
        // Released before the child is reaped (field drop, after this), or
        // the wait would never end.
        if let Some(release) = self.release.take() {
            let _ = release.notify();
        }
    }
}

/// The guardian's life: wait, then remove what its parent left.
fn guard(
    pidfd: &impl std::os::fd::AsRawFd,
    released: &Receiver,
    parent: &Path,
    stem: &str,
    owner: Owner,
) -> Result<()> {
    use std::os::fd::{AsFd, AsRawFd};
    // Ctrl-C reaches the whole process group: the parent's handler removes
    // the cgroup, and the guardian must live to see that it did.
    for signal in SIGNALS {
        // Safety: SIG_IGN installs no code.
        let _ = unsafe { nix::sys::signal::signal(signal, SigHandler::SigIgn) };
    }
    let mut fds = [
        libc::pollfd {
            fd: pidfd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        },
        libc::pollfd {
            fd: released.as_fd().as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    loop {
        // Safety: two pollfd structures, on this stack.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
        if ready > 0 {
            break;
        }
        let errno = nix::errno::Errno::last();
        if errno != nix::errno::Errno::EINTR {
            return Err(Error::sys("poll([pidfd, pipe], 2, -1)", errno));
        }
    }
    // A byte: released. End-of-file, or the parent's end: sweep.
    if fds[1].revents != 0 && released.wait()? {
        return Ok(());
    }
    let me = std::process::id();
    let entries = fs::read_dir(parent)
        .call(|| format!("opendir(\"{}\")", parent.display()))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        if name.to_str().and_then(|n| Owner::parse(n, stem)) != Some(owner) {
            continue;
        }
        let path = entry.path();
        let what = match remove_cgroup(&path) {
            Ok(()) => {
                "moved what was in it to the parent cgroup and removed it".into()
            }
            Err(err) => format!("could not remove it: {err}"),
        };
        let _ = writeln!(
            std::io::stderr(),
            "process {me} (guardian): process {} ended without removing cgroup \"{}\": \
             {what}",
            owner.pid,
            path.display()
        );
    }
    Ok(())
}

/// Empty the cgroup `dir` into its parent and rmdir(2) it, [`ROUNDS`] times
/// at most (`Ok` only if this call removed it); after an EBUSY, wait (a second at most) for `cgroup.events` to
/// change: a process still exiting leaves the cgroup populated for a moment
/// (cgroups(7), "Cgroups v2 cgroup.events file").
fn remove_cgroup(dir: &Path) -> Result<()> {
    let mut last = Ok(());
    for _ in 0..ROUNDS {
        let _ = empty_cgroup(dir);
        match fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(err) => {
                let gone = err.kind() == std::io::ErrorKind::NotFound;
                last = Err(err).call(|| format!("rmdir(\"{}\")", dir.display()));
                if gone {
                    // Not ours to report as removed: someone else did.
                    break;
                }
                wait_unpopulated(dir);
            }
        }
    }
    last
}

/// Until `dir/cgroup.events` says `populated 0`, or changes, or a second
/// passes: the file is pollable, POLLPRI on a change (cgroups(7)).
fn wait_unpopulated(dir: &Path) {
    use std::io::Read;
    use std::os::fd::AsRawFd;
    let Ok(mut file) = fs::File::open(dir.join("cgroup.events")) else {
        return;
    };
    let mut text = String::new();
    if file.read_to_string(&mut text).is_err() || text.contains("populated 0") {
        return;
    }
    let mut fd = libc::pollfd {
        fd: file.as_raw_fd(),
        events: libc::POLLPRI,
        revents: 0,
    };
    // Safety: one pollfd, on this stack.
    unsafe { libc::poll(&mut fd, 1, 1000) };
}

/// Move every process listed in `dir/cgroup.procs` into the parent cgroup,
/// one PID per write(2) (cgroups(7): "one PID at a time").
pub fn empty_cgroup(dir: &Path) -> Result<()> {
    let procs = dir.join("cgroup.procs");
    let listed = fs::read_to_string(&procs)
        .call(|| format!("read(fd of \"{}\")", procs.display()))?;
    let parent = dir.parent().unwrap_or(dir).join("cgroup.procs");
    for pid in listed.split_whitespace() {
        // One open per write: a failed write leaves nothing half done.
        let written = fs::OpenOptions::new()
            .write(true)
            .open(&parent)
            .and_then(|mut f| f.write_all(pid.as_bytes()));
        match written {
            // ESRCH: it exited since the read.
            Err(err) if err.raw_os_error() == Some(libc::ESRCH) => {}
            other => other.call(|| {
                format!("write(fd of \"{}\", \"{pid}\")", parent.display())
            })?,
        }
    }
    Ok(())
}

/// [`empty_cgroup`] for the signal handler: only open(2), read(2), write(2)
/// and close(2), all async-signal-safe (signal-safety(7)), on buffers on the
/// stack.
///
/// # Safety
/// `dir` is a NUL-terminated path.
unsafe fn empty_cgroup_raw(dir: *const c_char) {
    const PROCS: &[u8] = b"/cgroup.procs\0";
    // Safety: the caller's NUL-terminated string.
    let dir = unsafe { std::ffi::CStr::from_ptr(dir) }.to_bytes();
    let mut own = [0u8; 4096];
    let mut parent = [0u8; 4096];
    let Some(slash) = dir.iter().rposition(|b| *b == b'/') else {
        return;
    };
    if dir.len() + PROCS.len() > own.len() || slash == 0 {
        return;
    }
    own[..dir.len()].copy_from_slice(dir);
    own[dir.len()..dir.len() + PROCS.len()].copy_from_slice(PROCS);
    parent[..slash].copy_from_slice(&dir[..slash]);
    parent[slash..slash + PROCS.len()].copy_from_slice(PROCS);
    let mut pids = [0u8; 4096];
    // Safety: NUL-terminated paths and buffers of the sizes given, on this
    // stack; each fd is closed once.
    unsafe {
        let fd = libc::open(own.as_ptr().cast(), libc::O_RDONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return;
        }
        let len = libc::read(fd, pids.as_mut_ptr().cast(), pids.len());
        libc::close(fd);
        if len <= 0 {
            return;
        }
        let out =
            libc::open(parent.as_ptr().cast(), libc::O_WRONLY | libc::O_CLOEXEC);
        if out < 0 {
            return;
        }
        for pid in pids[..len as usize].split(|b| *b == b'\n') {
            if !pid.is_empty() {
                libc::write(out, pid.as_ptr().cast(), pid.len());
            }
        }
        libc::close(out);
    }
}

/// Remove the cgroups that dead runs of `stem` left in `parent`: move any
/// process still in one to `parent`, then rmdir(2); say so on stderr.
fn remove_dead_cgroups(parent: &Path, stem: &str) {
    for (path, owner) in owner::left_by_the_gone(parent, stem) {
        if remove_cgroup(&path).is_ok() {
            let _ = writeln!(
                std::io::stderr(),
                "process {}: removed cgroup {}, left by process {}, which is gone \
                 (killed by SIGKILL?)",
                std::process::id(),
                path.display(),
                owner.pid
            );
        }
    }
}

/// Remove the empty directories that dead runs of `chapter` left in
/// `parent` (see [`owner::left_by_the_gone`]); say so on stderr. Never
/// fails: what it cannot prove dead, or cannot remove, it leaves.
fn remove_dead_runs(parent: &Path, chapter: &str) {
    for (path, owner) in owner::left_by_the_gone(parent, chapter) {
        // rmdir(2): not empty, or no longer there, is not ours to touch
        // further.
        if fs::remove_dir(&path).is_ok() {
            let _ = writeln!(
                std::io::stderr(),
                "process {}: removed {}, left by process {}, which is gone \
                 (killed by SIGKILL?)",
                std::process::id(),
                path.display(),
                owner.pid
            );
        }
    }
}

/// For tests: the C string the handler would use, to prove paths survive.
#[cfg(test)]
fn registered_path(index: usize) -> Option<String> {
    let path = TABLE[index].path.load(Ordering::SeqCst);
    (!path.is_null()).then(|| {
        // Safety: a registered CString, still in the table: not yet freed.
        unsafe { std::ffi::CStr::from_ptr(path) }
            .to_string_lossy()
            .into_owned()
    })
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_guard_registers_and_unregisters() {
        let dir = std::env::temp_dir().join("workbook-cleanup-unit");
        let entry = register(RMDIR, &dir).expect("register");
        assert_eq!(registered_path(entry.0).as_deref(), dir.to_str());
        let index = entry.0;
        drop(entry);
        assert_eq!(registered_path(index), None);
    }
}
