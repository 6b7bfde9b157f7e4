//! The checks of exercise 24: `cargo test -p ex24-cgroupns-view`.
//!
//! Each case runs your code in a fresh process, as root and as an
//! unprivileged user, with a helper process (`other`) parked beside it. As
//! root the case first makes a cgroup v2 child cgroup of its own (named
//! `ex24.<pid namespace>.<pid>.<start>.XXXXXX`, removed at the case's end, or
//! by the next run if the case was killed) and moves itself into it, so that
//! `other` is outside the namespace's root. Your texts are compared with
//! what the kernel shows the process from inside once your code returned.
//! A run in which a read before the unshare would give the same texts
//! cannot judge that mistake: as root that is a failure (the case needs a
//! cgroup of its own to tell), unprivileged the root run judges it.

use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use ex24_cgroupns_view as ex;
use testkit::exercise::{self, Case, Outcome, Parked, call, ensure, setup};
use workbook::cgroup::{self, Layout};
use workbook::ns::NsId;
use workbook::owner::{self, Owner};

const STEM: &str = "ex24";

pub fn main() -> ExitCode {
    exercise::main("ex24", &[Case::new("sees_itself_at_the_root", view)])
}

/// The directory of this process's own v2 cgroup, if cgroup2 is mounted
/// and shows it.
fn own_dir() -> Option<PathBuf> {
    let (mount, root) = Layout::current().ok()?.v2?;
    let lines = cgroup::read("self").ok()?;
    cgroup::dir_of(&mount, &root, cgroup::v2_path(&lines)?)
}

/// A child cgroup of the case's own, with the process in it. Dropped, it
/// moves the process back to its parent cgroup and removes itself. The
/// move goes through a descriptor of the parent's `cgroup.procs` opened
/// before the unshare: where cgroup2 is mounted `nsdelegate` (systemd), the
/// parent is out of reach from inside, and the kernel judges a move by the
/// cgroup namespace of the file's opener (Linux 5.16+), not the writer's.
struct OwnCgroup {
    dir: PathBuf,
    back: fs::File,
}

impl Drop for OwnCgroup {
    fn drop(&mut self) {
        let _ = self.back.write_all(b"0");
        let _ = fs::remove_dir(&self.dir);
    }
}

/// Root of the initial user namespace (uid_map `0 0 4294967295`,
/// user_namespaces(7)): the run that may make cgroups. The unprivileged run
/// is root too, of a user namespace the harness made.
fn host_root() -> bool {
    nix::unistd::geteuid().is_root()
        && fs::read_to_string("/proc/self/uid_map").is_ok_and(|map| {
            map.split_whitespace().collect::<Vec<_>>() == ["0", "0", "4294967295"]
        })
}

/// As root, a child cgroup of ours to move into; `Err(why not)` where we
/// may not.
fn own_cgroup() -> Result<Result<OwnCgroup, String>, String> {
    if !host_root() || !workbook::userns::has_cap_sys_admin() {
        return Ok(Err("not root of the initial user namespace".into()));
    }
    let Some(dir) = own_dir() else {
        return Ok(Err("no cgroup2 mount shows our cgroup".into()));
    };
    // What killed runs left: empty, ours, and their owner gone.
    for (left, _) in owner::left_by_the_gone(&dir, STEM) {
        let _ = fs::remove_dir(left);
    }
    let me = setup("reading our start time", Owner::me())?;
    let template = me.template(&dir, STEM);
    let made = match nix::unistd::mkdtemp(&template) {
        Ok(made) => made,
        Err(errno) => {
            return Ok(Err(format!(
                "mkdtemp(\"{}\") failed: {errno}",
                template.display()
            )));
        }
    };
    let back = fs::OpenOptions::new()
        .write(true)
        .open(dir.join("cgroup.procs"));
    let own = OwnCgroup {
        dir: made,
        back: setup("opening our cgroup.procs", back)?,
    };
    setup(
        "moving into our cgroup",
        fs::write(own.dir.join("cgroup.procs"), "0"),
    )?;
    Ok(Ok(own))
}

fn v2_line(text: &str) -> Option<String> {
    cgroup::v2_path(&cgroup::parse(text)).map(str::to_owned)
}

fn view() -> Outcome {
    let other = Parked::spawn(|| Ok(()))?;
    let made = own_cgroup()?;
    let path = format!("/proc/{}/cgroup", other.pid());
    // What a read before the unshare gives: the tempting wrong answer.
    let own_early = setup(
        "reading /proc/self/cgroup",
        fs::read_to_string("/proc/self/cgroup"),
    )?;
    let theirs_early = setup("reading /proc/PID/cgroup", fs::read_to_string(&path))?;
    let before = setup("reading /proc/self/ns/cgroup", NsId::current("cgroup"))?;
    let seen = call(
        &format!("unshare_and_view({})", other.pid()),
        ex::unshare_and_view(other.pid()),
    )?;
    let now = setup("reading /proc/self/ns/cgroup", NsId::current("cgroup"))?;
    ensure(now != before, || {
        format!("the process is still in {before}: no new cgroup namespace was made")
    })?;
    ensure(seen.ns == now, || {
        format!(
            "View.ns is {}, but the kernel shows the process in {now}",
            seen.ns
        )
    })?;
    let own = setup(
        "reading /proc/self/cgroup",
        fs::read_to_string("/proc/self/cgroup"),
    )?;
    let theirs = setup("reading /proc/PID/cgroup", fs::read_to_string(&path))?;
    ensure(seen.own == own, || {
        format!(
            "View.own is {:?}, but from inside the namespace the kernel shows {own:?}: read \
             /proc/self/cgroup after the unshare, not before",
            seen.own
        )
    })?;
    ensure(seen.other == theirs, || {
        format!(
            "View.other is {:?}, but from inside the kernel shows {path} as {theirs:?}: read \
             the other process's file, after the unshare",
            seen.other
        )
    })?;
    if own_early == own && theirs_early == theirs {
        // A read before the unshare would have passed this run. As root
        // that must not happen: the case would accept the mistake.
        if let (true, Err(why)) = (host_root(), &made) {
            return Err(format!(
                "this case cannot tell a read before the unshare from one after: both \
                 give {own:?}, since root could not make a cgroup of its own to move \
                 into ({why}); run it where root may create cgroups"
            ));
        }
    }
    if made.is_ok() {
        // The root is the cgroup we were in at the unshare; `other` is in
        // its parent.
        ensure(v2_line(&own).as_deref() == Some("/"), || {
            format!("from inside, /proc/self/cgroup should read 0::/, not {own:?}")
        })?;
        ensure(v2_line(&theirs).as_deref() == Some("/.."), || {
            format!(
                "from inside, {path} should read 0::/.. (one level up), not {theirs:?}"
            )
        })?;
    }
    other.finish()
}
