//! Chapter 2: unshare(2), a process moves itself into new namespaces.
//!
//! unshare(2) takes the calling process out of some of its namespaces and
//! puts it into new ones, made for it on the spot. Nothing else moves: every
//! other process, even one forked a moment before, stays where it was.
//!
//! This example forks a "witness" that stays in the original namespaces, then
//! moves itself into a new mount namespace and a new UTS namespace with one
//! unshare(CLONE_NEWNS | CLONE_NEWUTS). There it makes `/` private, mounts a
//! tmpfs, writes a file on it and sets a hostname; then it asks the witness
//! what it sees: no tmpfs, no file, and the host's hostname.
//!
//! Read: unshare(2), mount_namespaces(7) ("Shared subtrees"),
//! uts_namespaces(7), mount(2), sethostname(2), proc(5) ("/proc/pid/mountinfo").

use std::fs;
use std::path::Path;
use std::process::ExitCode;

use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};
use nix::unistd::sethostname;
use workbook::cli::{self, Args};
use workbook::error::Context;
use workbook::ns::{self, NsId};
use workbook::process::{self, Child, Receiver, Sender};
use workbook::say;
use workbook::{Error, Result, cleanup, mountinfo, userns};

const USAGE: &str = "\
Usage: ch02-unshare [HOSTNAME]

Forks a witness process that stays in the original namespaces, then moves
itself into a new mount namespace and a new UTS namespace with one call,
unshare(CLONE_NEWNS | CLONE_NEWUTS). There it makes / private, mounts a tmpfs
on a temporary directory, writes a file on it and sets the hostname to
HOSTNAME (default \"ch02-uts\", at most 64 bytes). The witness then shows that
it sees none of this. The tmpfs and the directory are removed before the end.

Root runs it directly; anyone else runs it inside a user namespace the example
creates first. Read unshare(2) and mount_namespaces(7).
";

const DEFAULT_HOSTNAME: &str = "ch02-uts";
/// The file written on the tmpfs, for the witness to look for.
const FILE_NAME: &str = "hello";

fn main() -> ExitCode {
    cli::main(USAGE, lesson)
}

fn lesson(mut args: Args) -> Result<()> {
    let hostname = cli::hostname(args.next("hostname")?, DEFAULT_HOSTNAME)?;
    args.finish()?;
    userns::enter_if_unprivileged()?;
    let me = std::process::id();

    // ANCHOR: before
    let mnt_before = NsId::current("mnt")?;
    let uts_before = NsId::current("uts")?;
    let host_name = ns::hostname()?;
    say!(
        "process {me} starts in {mnt_before} {uts_before}, hostname \"{host_name}\""
    );
    // ANCHOR_END: before

    // ANCHOR: tempdir
    // Made before the witness is forked, so that both know its path. It is a
    // plain directory of /tmp (or $TMPDIR), which both mount namespaces will
    // share: what is per namespace is what gets mounted on it. Its name
    // carries this process's PID; the guard removes it on every path, even
    // Ctrl-C (workbook::cleanup says what SIGKILL can leave, and who
    // removes it).
    let dir = cleanup::TempDir::new("ch02-unshare")?;
    let path = dir.path().to_owned();
    let file = path.join(FILE_NAME);
    say!(
        "process {me}: mkdtemp(\"{}\") -> \"{}\", an empty directory on the host's filesystem",
        dir.template().display(),
        path.display()
    );
    // ANCHOR_END: tempdir

    // ANCHOR: witness
    // The witness is forked before unshare, so it stays in the namespaces it
    // inherited: the host's. It blocks in read(2) on a pipe until told to
    // look, then reports through a second pipe.
    let (look_tx, look_rx) = process::channel()?;
    let (seen_tx, seen_rx) = process::channel()?;
    let witness_sees = {
        let (path, file, host_name) =
            (path.clone(), file.clone(), host_name.clone());
        move || {
            // End-of-file instead of a byte: the process gave up before
            // there was anything to see, and has printed its error.
            if !look_rx.wait()? {
                return Ok(());
            }
            witness_looks(&path, &file, &host_name)?;
            seen_tx.notify()
        }
    };
    // The witness closes its copies of our ends: it must see end-of-file
    // when we close ours.
    let child = process::fork_child(&[&look_tx, &seen_rx], witness_sees)?;
    let witness = Witness {
        look: look_tx,
        seen: seen_rx,
        child,
    };
    say!(
        "process {me} forked process {} (witness), which stays in {mnt_before} {uts_before}",
        witness.child.pid()
    );
    // ANCHOR_END: witness

    // ANCHOR: unshare
    // One call, two new namespaces: the process leaves its mount and UTS
    // namespaces for fresh ones. The new mount namespace starts as a copy of
    // the old mount table; the new UTS namespace as a copy of the hostname.
    //
    // The slides do this in Go, `syscall.Unshare(syscall.CLONE_NEWNS)`, and
    // fall into two traps:
    // - unshare(2) acts on the calling thread. A Go program has many OS
    //   threads and the scheduler moves goroutines between them, so only the
    //   thread that happened to run the call moves, unless the goroutine first
    //   calls runtime.LockOSThread. This program has one thread, so the
    //   process is the thread.
    // - A bare unshare(CLONE_NEWNS) keeps the copied mounts' propagation: where
    //   `/` is shared (see the next step), mounts made afterwards still reach
    //   the host. Go's os/exec remounts `/` private only for
    //   SysProcAttr.Unshareflags (golang/go#19661), not for syscall.Unshare.
    unshare(CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWUTS)
        .call(|| "unshare(CLONE_NEWNS | CLONE_NEWUTS)".into())?;
    let mnt_after = NsId::current("mnt")?;
    let uts_after = NsId::current("uts")?;
    // Nothing below may run in the host's namespaces: refuse unless both are
    // new.
    ns::ensure_new(mnt_before, mnt_after)?;
    ns::ensure_new(uts_before, uts_after)?;
    say!(
        "process {me}: unshare(CLONE_NEWNS | CLONE_NEWUTS) -> {mnt_after} {uts_after}, both new"
    );
    // ANCHOR_END: unshare

    // ANCHOR: private
    // mount_namespaces(7), "Shared subtrees": the copied mounts keep their
    // propagation type. systemd makes `/` shared (MS_SHARED) at boot, so the
    // copy of `/` here is a peer of the host's, and a tmpfs mounted below it
    // would appear on the host as well. Remounting `/` and everything under
    // it (MS_REC) private cuts that link, in this namespace only; unshare(1)
    // does the same by default (--propagation private). Where `/` is private
    // already, the call changes nothing. Without root, the new mount namespace
    // belongs to a user namespace of ours, and the kernel has already turned
    // shared mounts into slaves (nothing flows back to the host); making them
    // private is still the rule.
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .call(|| "mount(NULL, \"/\", NULL, MS_REC | MS_PRIVATE, NULL)".into())?;
    say!(
        "process {me}: mount(NULL, \"/\", NULL, MS_REC | MS_PRIVATE, NULL): \
         no mount made here propagates to the host"
    );
    // ANCHOR_END: private

    // ANCHOR: tmpfs
    let tmpfs_call = format!(
        "mount(\"tmpfs\", \"{}\", \"tmpfs\", 0, \"size=1M\")",
        path.display()
    );
    // The guard unmounts the tmpfs on every path. It is made after `dir`,
    // so it is dropped first: unmount, then rmdir.
    let tmpfs = cleanup::Mount::new(&path, || {
        mount(
            Some("tmpfs"),
            &path,
            Some("tmpfs"),
            MsFlags::empty(),
            Some("size=1M"),
        )
        .call(|| tmpfs_call.clone())
    })?;
    let fstype = mountinfo::top_mount_at(&path)?
        .map(|m| m.fstype)
        .unwrap_or_else(|| "nothing".into());
    say!(
        "process {me}: {tmpfs_call}; its /proc/self/mountinfo shows {fstype} there"
    );
    fs::write(&file, "written in a mount namespace of its own\n")
        .call(|| format!("write(fd of \"{}\")", file.display()))?;
    say!("process {me}: wrote {}", file.display());
    // ANCHOR_END: tmpfs

    // ANCHOR: sethostname
    sethostname(&hostname).call(|| format!("sethostname(\"{hostname}\")"))?;
    say!(
        "process {me}: sethostname(\"{hostname}\") -> hostname \"{}\" in {uts_after}",
        ns::hostname()?
    );
    // ANCHOR_END: sethostname

    // ANCHOR: look
    // The witness prints while this process is blocked reading the second
    // pipe, so the lines always come in this order.
    say!(
        "process {me} asks process {} (witness) to look",
        witness.child.pid()
    );
    witness.look.notify()?;
    if !witness.seen.wait()? {
        // It ended without reporting: its exit status says why.
        witness.finish()?;
        return Err(Error::refused("the witness ended without reporting", ""));
    }
    // ANCHOR_END: look

    // ANCHOR: cleanup
    let witness_pid = witness.child.pid();
    tmpfs.unmount()?;
    dir.remove()?;
    say!(
        "process {me}: umount2(\"{0}\", 0) and rmdir(\"{0}\"): nothing is left",
        path.display()
    );
    witness.finish()?;
    say!(
        "process {me}: the tmpfs, its file and hostname \"{hostname}\" existed only in \
         {mnt_after} {uts_after}; process {witness_pid} (witness), in {mnt_before} \
         {uts_before}, saw none of them"
    );
    // Both new namespaces end with this process: nothing else is in them or
    // holds them open.
    // ANCHOR_END: cleanup
    Ok(())
}

/// What the witness sees from the original namespaces. It prints what it
/// finds, and fails if it sees anything the process did in its new ones:
/// that would mean the host was changed.
fn witness_looks(dir: &Path, file: &Path, host_name: &str) -> Result<()> {
    let me = std::process::id();
    let mnt = NsId::current("mnt")?;
    let uts = NsId::current("uts")?;
    say!("process {me} (witness) looks from {mnt} {uts}:");
    let mounted = mountinfo::top_mount_at(dir)?.map(|m| m.fstype);
    match &mounted {
        None => say!(
            "  its /proc/self/mountinfo: nothing mounted on {}",
            dir.display()
        ),
        Some(fstype) => say!(
            "  its /proc/self/mountinfo: {fstype} mounted on {} (LEAKED)",
            dir.display()
        ),
    }
    let file_exists = file
        .try_exists()
        .call(|| format!("stat(\"{}\")", file.display()))?;
    match file_exists {
        false => say!("  {}: no such file", file.display()),
        true => say!("  {}: exists (LEAKED)", file.display()),
    }
    let name = ns::hostname()?;
    say!("  hostname \"{name}\"");
    if mounted.is_some() || file_exists || name != host_name {
        return Err(Error::refused(
            "the witness, in the original namespaces, sees what was done in the new ones",
            "a mount propagated back: was `/` made private (MS_REC | MS_PRIVATE) first?",
        ));
    }
    Ok(())
}
/// The witness and this process's ends of its two pipes. Fields are dropped
/// in order: on an error path `look` closes first, which wakes the witness
/// with end-of-file so that it exits, and only then does `child` reap it.
/// (Reaping first would wait forever for a witness still waiting for us.)
#[derive(Debug)]
struct Witness {
    look: Sender,
    seen: Receiver,
    child: Child,
}

impl Witness {
    /// Let the witness exit, and reap it.
    fn finish(self) -> Result<()> {
        let Witness { look, seen, child } = self;
        drop(look);
        drop(seen);
        child.wait()
    }
}
