//! The checks of exercise 16: `cargo test -p ex16-proc-of-its-own`.
//!
//! Each case runs your code in a fresh process, as root and as an
//! unprivileged user. The harness first moves that process into a throwaway
//! mount namespace with `/` private, and mounts a tmpfs marked shared on the
//! case's directory, so that a proc mount that leaks shows up there and
//! nowhere else. While PID 1 waits, the checks read the mount tables of the
//! case's process and of PID 1 (named by the host PID PID 1 reads in its
//! `NSpid:`) in `/proc/PID/mountinfo`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ex16_proc_of_its_own as ex;
use nix::mount::{MsFlags, mount};
use nix::sched::CloneFlags;
use nix::unistd::getpid;
use testkit::exercise::{
    self, Case, Outcome, Probe, call, ensure, mount_at, ns_of, report, report_ns,
    setup,
};
use workbook::ns::NsId;
use workbook::process;

pub fn main() -> ExitCode {
    exercise::main(
        "ex16",
        &[
            Case::new("body_runs_as_pid_1", spawns).check(pid_1),
            Case::new("proc_lists_only_the_namespace", spawns).check(lists_its_own),
            Case::new("proc_mount_stays_in_pid_1", spawns).check(stays_inside),
        ],
    )
}

/// The PIDs a proc mounted on `dir` lists, as `[1, 2]`; `[]` if none.
fn pids_in(dir: &Path) -> String {
    let mut pids: Vec<u32> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    pids.sort_unstable();
    format!("{pids:?}")
}

/// The host's PID of the calling process: the first of `NSpid:` in
/// /proc/self/status, read through a /proc of the host's namespace.
fn host_pid() -> String {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find_map(|l| l.strip_prefix("NSpid:"))?;
            line.split_whitespace().next().map(str::to_owned)
        })
        .unwrap_or_default()
}

fn spawns() -> Outcome {
    exercise::isolate(CloneFlags::CLONE_NEWNS)?;
    report_ns(
        "start_pid",
        setup("reading /proc/self/ns/pid", NsId::current("pid"))?,
    );
    // The trap made visible: a shared tmpfs, whose copy in a new mount
    // namespace would be its peer unless made private.
    let shared = exercise::temp_dir()?;
    setup(
        "mounting a tmpfs",
        mount(
            Some("tmpfs"),
            &shared,
            Some("tmpfs"),
            MsFlags::empty(),
            Some("size=1M"),
        ),
    )?;
    setup(
        "marking it shared",
        mount(
            None::<&str>,
            &shared,
            None::<&str>,
            MsFlags::MS_SHARED,
            None::<&str>,
        ),
    )?;
    let dir: PathBuf = shared.join("proc");
    setup("mkdir", fs::create_dir(&dir))?;
    report("dir", dir.display());

    let (ready_tx, ready_rx) = setup("pipe()", process::channel())?;
    let (release_tx, release_rx) = setup("pipe()", process::channel())?;
    let dir_in_body = dir.clone();
    let init = call(
        &format!("spawn_with_own_proc({}, body)", dir.display()),
        ex::spawn_with_own_proc(&dir, move || {
            report("body_getpid", getpid());
            report("body_host_pid", host_pid());
            report_ns("body_pid_ns", NsId::current("pid")?);
            report("pids", pids_in(&dir_in_body));
            ready_tx.notify()?;
            release_rx.wait()?;
            Ok(())
        }),
    )?;
    // End-of-file: the body never ran, or failed; its error is printed.
    if !setup("read(pipe)", ready_rx.wait())? {
        let pid = init.pid();
        let _ = init.wait();
        return Err(format!(
            "process {pid}, which spawn_with_own_proc started, exited before body was ready \
             (its error, if any, is in the output below)"
        ));
    }
    exercise::park();
    setup("write(pipe)", release_tx.notify())?;
    call(
        "waiting for the process spawn_with_own_proc returned",
        init.wait(),
    )
}

fn pid_1(p: &Probe) -> Outcome {
    let pid = p.get("body_getpid")?;
    ensure(p.ns("body_pid_ns")? != p.ns("start_pid")?, || {
        format!(
            "body ran as PID {pid} in the caller's PID namespace: call unshare(CLONE_NEWPID) \
             before the fork, and run body in the child"
        )
    })?;
    ensure(pid == "1", || {
        format!(
            "body ran as PID {pid}, not PID 1: run it in the first child after unshare"
        )
    })
}

fn lists_its_own(p: &Probe) -> Outcome {
    let dir = p.path("dir")?;
    let pids = p.get("pids")?;
    ensure(pids != "[]", || {
        format!(
            "body found no process in {}: no proc filesystem was mounted there",
            dir.display()
        )
    })?;
    ensure(pids == "[1]", || {
        format!(
            "the proc on {} lists {} PIDs, not only [1]: a proc shows the PID namespace of \
             the process that mounted it; mount it in the child, PID 1, not in the parent",
            dir.display(),
            pids.split(',').count()
        )
    })
}

fn stays_inside(p: &Probe) -> Outcome {
    let dir = p.path("dir")?;
    let init = p.pid("body_host_pid")?;
    match mount_at(init, &dir)? {
        Some(m) if m.fstype == "proc" => {}
        _ => {
            return Err(format!(
                "the kernel shows no proc mounted on {} in PID 1's mount namespace",
                dir.display()
            ));
        }
    }
    let Some(leaked) = mount_at(p.child, &dir)? else {
        return Ok(());
    };
    let same = ns_of(init, "mnt")? == ns_of(p.child, "mnt")?;
    Err(match same {
        true => format!(
            "the {} on {} is also in the parent's mount table: PID 1 shares its mount \
             namespace; call unshare(CLONE_NEWNS) in PID 1 before mounting",
            leaked.fstype,
            dir.display()
        ),
        false => format!(
            "the proc mounted in PID 1's new mount namespace propagated back to the parent's \
             ({} appears on {}): make / private (MS_REC | MS_PRIVATE) before mounting",
            leaked.fstype,
            dir.display()
        ),
    })
}
