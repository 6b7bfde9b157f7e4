//! The checks of exercise 17: `cargo test -p ex17-slave-mount`.
//!
//! Each case runs your code in a fresh process, as root and as an
//! unprivileged user. The harness first moves that process into a throwaway
//! mount namespace of its own, with `/` private, and mounts a shared tmpfs
//! there: the outer namespace's shared mount. Then it mounts on each side of
//! yours and reads both mount tables in `/proc/PID/mountinfo`.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ex17_slave_mount as ex;
use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, setns};
use nix::unistd::Pid;
use testkit::exercise::{
    self, Case, Outcome, Parked, Probe, call, ensure, mount_at, ns_of, report,
    report_ns, setup,
};
use workbook::ns::NsId;

pub fn main() -> ExitCode {
    exercise::main(
        "ex17",
        &[
            Case::new("outer_mounts_arrive", arrive).check(arrived),
            Case::new("own_mounts_stay_inside", stay).check(stayed),
        ],
    )
}

/// A throwaway mount namespace, with a shared tmpfs on a fresh directory.
fn start() -> Result<PathBuf, String> {
    exercise::isolate(CloneFlags::CLONE_NEWNS)?;
    report_ns(
        "start",
        setup("reading /proc/self/ns/mnt", NsId::current("mnt"))?,
    );
    let dir = exercise::temp_dir()?;
    setup("mounting a tmpfs", tmpfs(&dir))?;
    setup(
        "marking it shared",
        mount(
            None::<&str>,
            &dir,
            None::<&str>,
            MsFlags::MS_SHARED,
            None::<&str>,
        ),
    )?;
    report("dir", dir.display());
    Ok(dir)
}

fn tmpfs(dir: &Path) -> nix::Result<()> {
    mount(
        Some("tmpfs"),
        dir,
        Some("tmpfs"),
        MsFlags::empty(),
        Some("size=1M"),
    )
}

/// After your call, a helper goes back into the outer namespace (setns(2)
/// on a descriptor kept from before) and mounts a tmpfs under the shared
/// directory there.
fn arrive() -> Outcome {
    let dir = start()?;
    let outer = setup("opening /proc/self/ns/mnt", File::open("/proc/self/ns/mnt"))?;
    let from_outside = dir.join("from_outside");
    setup("mkdir", fs::create_dir(&from_outside))?;
    report("from_outside", from_outside.display());
    call("slave_mount_namespace()", ex::slave_mount_namespace())?;
    let helper = Parked::spawn(move || {
        setup(
            "setns(2) back into the outer namespace",
            setns(&outer, CloneFlags::CLONE_NEWNS),
        )?;
        setup("mounting in the outer namespace", tmpfs(&from_outside))
    })?;
    report("helper", helper.pid());
    exercise::park();
    helper.finish()
}

fn new_namespace(p: &Probe) -> Outcome {
    let now = ns_of(p.child, "mnt")?;
    ensure(now != p.ns("start")?, || {
        format!(
            "after slave_mount_namespace() the process is still in {now}, where it started: \
             no new mount namespace was made (unshare(CLONE_NEWNS))"
        )
    })
}

/// The propagation of the mount on `dir` that process `pid` sees.
fn propagation_at(pid: Pid, dir: &Path) -> Result<String, String> {
    Ok(mount_at(pid, dir)?
        .map(|m| m.propagation.to_string())
        .unwrap_or_else(|| "not mounted".into()))
}

fn arrived(p: &Probe) -> Outcome {
    new_namespace(p)?;
    let dir = p.path("dir")?;
    let from_outside = p.path("from_outside")?;
    let helper = p.pid("helper")?;
    ensure(mount_at(helper, &from_outside)?.is_some(), || {
        format!(
            "the test's own mount on {} in the outer namespace is missing (a bug in the test)",
            from_outside.display()
        )
    })?;
    let seen = mount_at(p.child, &from_outside)?;
    let how = propagation_at(p.child, &dir)?;
    ensure(seen.is_some(), || match how.as_str() {
        "private" => format!(
            "a tmpfs the outer namespace mounted on {} afterwards did not arrive: {} is \
             private in your namespace (MS_PRIVATE?), and a private mount receives nothing. \
             MS_SLAVE receives and does not send",
            from_outside.display(),
            dir.display()
        ),
        _ => format!(
            "a tmpfs the outer namespace mounted on {} afterwards did not arrive ({} is {how} \
             in your namespace): make every mount a slave, MS_REC | MS_SLAVE",
            from_outside.display(),
            dir.display()
        ),
    })
}

/// A witness stays in the outer namespace; after your call the case mounts
/// a tmpfs under the shared directory, in your namespace.
fn stay() -> Outcome {
    let dir = start()?;
    let witness = Parked::spawn(|| Ok(()))?;
    report("witness", witness.pid());
    call("slave_mount_namespace()", ex::slave_mount_namespace())?;
    let inner = dir.join("inner");
    setup("mkdir", fs::create_dir(&inner))?;
    setup("mounting a tmpfs in your namespace", tmpfs(&inner))?;
    report("inner", inner.display());
    exercise::park();
    witness.finish()
}

fn stayed(p: &Probe) -> Outcome {
    new_namespace(p)?;
    let dir = p.path("dir")?;
    let inner = p.path("inner")?;
    let witness = p.pid("witness")?;
    let leaked = mount_at(witness, &inner)?;
    let how = propagation_at(p.child, &dir)?;
    ensure(leaked.is_none(), || match how.starts_with("shared:") {
        true => format!(
            "a tmpfs mounted on {} in your namespace appeared in the outer one (process \
             {witness} sees it): {} is still {how} there. A propagation change without MS_REC \
             changes only the mount it names, `/`: use MS_REC | MS_SLAVE",
            inner.display(),
            dir.display()
        ),
        false => format!(
            "a tmpfs mounted on {} in your namespace appeared in the outer one (process \
             {witness} sees it): make every mount a slave, MS_REC | MS_SLAVE",
            inner.display()
        ),
    })?;
    let slave = how.contains("master:");
    ensure(slave, || {
        format!(
            "{} is {how} in your namespace, not a slave (master:N); MS_PRIVATE would also cut \
             what arrives: use MS_REC | MS_SLAVE",
            dir.display()
        )
    })
}
