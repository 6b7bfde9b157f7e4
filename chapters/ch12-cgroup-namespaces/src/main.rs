//! Chapter 12: a cgroup namespace, a view of the cgroup tree from one cgroup.
//!
//! `/proc/PID/cgroup` names the cgroup a process is in, as a path. After
//! unshare(CLONE_NEWCGROUP) that path is shown relative to the cgroup the
//! caller was in at that moment, the namespace's root: the caller sees
//! itself in `/`, and a process outside the root with `/..` (the parent
//! cgroup) in front. Nothing moves: the namespace changes what is shown, not
//! where a process is, nor which limits apply (cgroup_namespaces(7)).
//!
//! Where it may (root, or a delegated subtree), the example makes a child
//! cgroup, forks a child that moves into it and unshares; the parent stays
//! in its own cgroup and then moves the child back out, to show that the
//! root stays where it was at the unshare. Where it may not, it says so and
//! shows the rest in its own cgroup. The cgroup is removed on every path:
//! by the example, or, if a SIGKILL ends it first, by the guardian process
//! `Cgroup::new` forks before the mkdir (workbook/src/cleanup.rs).
//!
//! Read: cgroup_namespaces(7), cgroups(7) ("/proc/pid/cgroup", "Cgroups v2
//! delegation"), unshare(2), proc(5) ("/proc/pid/mountinfo").

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use nix::sched::{CloneFlags, unshare};
use workbook::cgroup::{self, Layout};
use workbook::cleanup::Cgroup;
use workbook::cli::{self, Args};
use workbook::error::Context;
use workbook::ns::{self, NsId};
use workbook::process::{self, Receiver, Sender};
use workbook::say;
use workbook::{Error, Result, userns};

mod show;
use show::{mount_root_text, own_path, path_of};

const USAGE: &str = "\
Usage: ch12-cgroup-namespaces

Shows /proc/self/cgroup before and after unshare(CLONE_NEWCGROUP): the path
becomes \"/\", another process's is shown from the new root (\"/..\"), and so
is the root field of the cgroup2 mount in /proc/self/mountinfo.

As root (or in a delegated cgroup v2 subtree) it makes a child cgroup, named
ch12.<pid namespace>.<pid>.<start time>.XXXXXX, moves a child process into it
before the unshare, moves it back out after, and removes the cgroup, also on
Ctrl-C; if it is killed first (SIGKILL), a guardian process it forked before
the mkdir removes it, and if both are, the next run does. Without that right it
says so and shows the rest in its own cgroup. Anyone else runs it inside a
user namespace it creates first. Read cgroup_namespaces(7) and cgroups(7).
";

/// The stem of the child cgroup's name.
const STEM: &str = "ch12";

fn main() -> ExitCode {
    cli::main(USAGE, lesson)
}

fn lesson(args: Args) -> Result<()> {
    args.finish()?;
    userns::enter_if_unprivileged()?;
    let me = std::process::id();

    // ANCHOR: layout
    // Which hierarchies are mounted: this changes what /proc/PID/cgroup
    // lists (one line per hierarchy; the v2 one reads `0::PATH`).
    let layout = Layout::current()?;
    say!("cgroup layout: {}", layout.describe());
    let cgroup_ns = NsId::current("cgroup")?;
    let start = own_path()?;
    say!(
        "process {me} (parent): {cgroup_ns}; /proc/self/cgroup: cgroup \"{start}\"; {}",
        mount_root_text(&layout, "has")
    );
    // ANCHOR_END: layout

    // ANCHOR: mkdir
    // A child cgroup of ours: a mkdir(2) in our cgroup's directory of the
    // cgroup2 filesystem. It needs write permission on that directory:
    // root, or a subtree delegated to us (cgroups(7), "Cgroups v2
    // delegation"). The guard removes it on every path, Ctrl-C included;
    // its guardian process, forked just before the mkdir, if we are killed.
    let child_cgroup = match &layout.v2 {
        Some((mount, mount_root)) => make_child_cgroup(mount, mount_root, &start)?,
        None => {
            say!("process {me} (parent): no cgroup2 mount: no child cgroup");
            None
        }
    };
    // ANCHOR_END: mkdir

    let (moved_tx, moved_rx) = process::channel()?;
    let (back_tx, back_rx) = process::channel()?;
    let procs = child_cgroup.as_ref().map(|c| c.path().join("cgroup.procs"));
    let child = process::fork_child(&[&moved_rx, &back_tx], || {
        child_story(me, procs.as_deref(), &moved_tx, &back_rx)
    })?;
    drop(moved_tx);
    drop(back_rx);
    // The channels go into `move_back`: on any of its errors they close, so
    // the child ends (end-of-file) and the wait below returns.
    let moved_back =
        move_back(child.pid(), child_cgroup.as_ref(), moved_rx, back_tx);
    let waited = child.wait();
    moved_back?;
    waited?;

    // ANCHOR: rmdir
    if let Some(cgroup) = child_cgroup {
        let path = cgroup.path().to_owned();
        cgroup.remove()?;
        say!(
            "process {me} (parent): rmdir(\"{}\") -> removed",
            path.display()
        );
    }
    // ANCHOR_END: rmdir
    Ok(())
}

/// Once the child has unshared: move it back to our cgroup, from outside
/// its namespace, and let it look again.
fn move_back(
    child_pid: nix::unistd::Pid,
    child_cgroup: Option<&Cgroup>,
    moved: Receiver,
    back: Sender,
) -> Result<()> {
    let me = std::process::id();
    if !moved.wait()? {
        // The child failed and said why; its exit status tells the rest.
        return Ok(());
    }
    // ANCHOR: back
    // One PID per write to cgroup.procs (cgroups(7)). We are outside the
    // child's cgroup namespace, so both cgroups are in reach. Its root stays
    // the cgroup it was in at the unshare.
    if let Some(ours) = child_cgroup.and_then(|c| c.path().parent()) {
        let procs = ours.join("cgroup.procs");
        fs::write(&procs, child_pid.to_string()).call(|| {
            format!("write(fd of \"{}\", \"{child_pid}\")", procs.display())
        })?;
        say!(
            "process {me} (parent): write(fd of \"{}\", \"{child_pid}\") -> process \
             {child_pid} is in cgroup \"{}\" again",
            procs.display(),
            path_of(&child_pid.to_string())?
        );
    }
    back.notify()
    // ANCHOR_END: back
}

/// The child: move into the child cgroup (if there is one), unshare, look.
fn child_story(
    parent: u32,
    procs: Option<&Path>,
    moved: &Sender,
    back: &Receiver,
) -> Result<()> {
    let me = std::process::id();
    // ANCHOR: move
    // Writing "0" to cgroup.procs moves the writing process (cgroups(7)).
    if let Some(procs) = procs {
        fs::write(procs, "0")
            .call(|| format!("write(fd of \"{}\", \"0\")", procs.display()))?;
        say!(
            "process {me} (child): write(fd of \"{}\", \"0\") -> cgroup \"{}\"",
            procs.display(),
            own_path()?
        );
    }
    // ANCHOR_END: move

    // ANCHOR: unshare
    // unshare(2) with CLONE_NEWCGROUP: the cgroup we are in now becomes
    // the root of what we see. It needs CAP_SYS_ADMIN (ours, or in the user
    // namespace the example made); ENOSPC past max_cgroup_namespaces.
    let before = NsId::current("cgroup")?;
    unshare(CloneFlags::CLONE_NEWCGROUP)
        .call(|| "unshare(CLONE_NEWCGROUP)".into())?;
    let after = NsId::current("cgroup")?;
    ns::ensure_new(before, after)?;
    say!(
        "process {me} (child): unshare(CLONE_NEWCGROUP) -> {after}; /proc/self/cgroup: \
         sees cgroup \"{}\"",
        own_path()?
    );
    let v1 = cgroup::read("self")?;
    let v1: Vec<_> = v1.iter().filter(|l| !l.is_v2()).collect();
    if !v1.is_empty() {
        let all_root = v1.iter().all(|l| l.path == "/");
        say!(
            "process {me} (child): the {} cgroup v1 lines: sees {}",
            v1.len(),
            if all_root {
                "\"/\" in each"
            } else {
                "not all \"/\""
            }
        );
    }
    // ANCHOR_END: unshare

    // ANCHOR: others
    // Another process's cgroup, shown from our root: outside it, the path
    // climbs with `..`. So does the root field (field 4) of the cgroup2
    // mount made before the unshare: the mount is the same, only shown from
    // the new root (cgroup_namespaces(7), the /.. example).
    say!(
        "process {me} (child): /proc/{parent}/cgroup: sees cgroup \"{}\"",
        path_of(&parent.to_string())?
    );
    let layout = Layout::current()?;
    say!("process {me} (child): {}", mount_root_text(&layout, "sees"));
    // ANCHOR_END: others

    moved.notify()?;
    if !back.wait()? {
        return Err("the parent has gone".into());
    }
    // ANCHOR: after
    if procs.is_some() {
        say!(
            "process {me} (child): /proc/self/cgroup: sees cgroup \"{}\": the root is \
             still the cgroup it was in at the unshare",
            own_path()?
        );
    }
    // ANCHOR_END: after
    Ok(())
}

/// Make the child cgroup in ours, or say why not and return `None`.
fn make_child_cgroup(
    mount: &Path,
    mount_root: &str,
    start: &str,
) -> Result<Option<Cgroup>> {
    let me = std::process::id();
    let Some(ours) = cgroup::dir_of(mount, mount_root, start) else {
        say!(
            "process {me} (parent): cgroup \"{start}\" is not below the root of \"{}\": \
             no child cgroup",
            mount.display()
        );
        return Ok(None);
    };
    match Cgroup::new(&ours, STEM) {
        Ok(cgroup) => {
            say!(
                "process {me} (parent): mkdtemp(\"{}\") -> a child cgroup \"{}\"",
                cgroup.template().display(),
                PathBuf::from(start)
                    .join(cgroup.path().file_name().unwrap_or_default())
                    .display()
            );
            if let Some(guardian) = cgroup.guardian() {
                say!(
                    "process {me} (parent): process {guardian} (guardian), forked before \
                     the mkdir, removes it if process {me} ends first (SIGKILL)"
                );
            }
            Ok(Some(cgroup))
        }
        Err(err @ Error::Sys { .. }) => {
            // Not ours to make here: the rest of the story still holds.
            let text = err.to_string();
            let mut lines = text.lines();
            say!(
                "process {me} (parent): {} -> no child cgroup; the rest in cgroup \"{start}\"",
                lines
                    .next()
                    .unwrap_or_default()
                    .trim_start_matches("error: ")
            );
            // The fix, as a line of the story: the run goes on, so it is
            // no error on stderr.
            for hint in lines {
                say!("process {me} (parent): {hint}");
            }
            Ok(None)
        }
        Err(err) => Err(err),
    }
}
