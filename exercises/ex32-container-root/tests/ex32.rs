//! The checks of exercise 32: `cargo test -p ex32-container-root`.
//!
//! Each case runs your code in a fresh process, as root and as an
//! unprivileged user (then in a user namespace of its own). The harness
//! moves it into a throwaway mount namespace with `/` private and makes it
//! PID 1 of a new PID namespace; then, while it waits, looks at it from
//! outside: its mount table (`/proc/PID/mountinfo`, seen from its root),
//! whether its /usr can be written (access(2) through `/proc/PID/root`),
//! which PIDs its /proc lists, and its current directory.

use std::fs;
use std::path::Path;
use std::process::ExitCode;

use ex32_container_root as ex;
use nix::errno::Errno;
use nix::sched::{CloneFlags, unshare};
use nix::sys::stat::stat;
use nix::unistd::{AccessFlags, access, getpid};
use testkit::exercise::{
    self, Case, Outcome, Probe, call, ensure, mounts_of, park, report, setup,
};
use workbook::process;

pub fn main() -> ExitCode {
    exercise::main(
        "ex32",
        &[
            Case::new("enters_a_root_with_usr_read_only_and_its_own_proc", enters)
                .check(entered),
        ],
    )
}

fn enters() -> Outcome {
    exercise::isolate(CloneFlags::CLONE_NEWNS)?;
    setup("unshare(CLONE_NEWPID)", unshare(CloneFlags::CLONE_NEWPID))?;
    let dir = exercise::temp_dir()?;
    let new_root = dir.join("rootfs");
    setup("mkdir", fs::create_dir(&new_root))?;
    // PID 1 of the new PID namespace runs your code, then waits to be seen.
    let init = setup(
        "fork()",
        process::fork_child(&[], move || {
            // Its PID as the checker sees it (park() reports the one
            // inside, 1), read while /proc is still the host's.
            report("init", host_pid()?);
            let entered = call(
                &format!("enter_root({})", new_root.display()),
                ex::enter_root(&new_root),
            );
            if let Err(sentence) = entered {
                report("failed", sentence);
            }
            park();
            Ok(())
        }),
    )?;
    setup("waitpid()", init.wait())
}

/// The first number of `NSpid:` in /proc/self/status: the PID in the
/// namespace of the /proc read, the host's here.
fn host_pid() -> workbook::Result<String> {
    let status = fs::read_to_string("/proc/self/status").map_err(|e| {
        workbook::Error::refused(format!("/proc/self/status: {e}"), "")
    })?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("NSpid:"))
        .and_then(|n| n.split_whitespace().next().map(str::to_owned))
        .ok_or_else(|| workbook::Error::refused("no NSpid: line", ""))
}

/// Two paths name the same file: (st_dev, st_ino).
fn same_file(a: &str, b: &str) -> Result<bool, String> {
    let id = |path: &str| {
        stat(path)
            .map(|st| (st.st_dev, st.st_ino))
            .map_err(|e| format!("stat({path}) failed: {e}"))
    };
    Ok(id(a)? == id(b)?)
}

fn entered(p: &Probe) -> Outcome {
    if let Ok(sentence) = p.get("failed") {
        return Err(sentence.to_owned());
    }
    let pid = p.pid("init")?;
    let mounts = mounts_of(pid)?;
    let at = |point: &str| {
        mounts
            .iter()
            .rev()
            .find(|m| m.mount_point == Path::new(point))
    };
    let Some(root) = at("/") else {
        return Err(
            "no mount sits on the process's root: pivot_root(2) into a mount point"
                .into(),
        );
    };
    ensure(root.fstype == "tmpfs", || {
        format!(
            "the process's root is a {} mount, not a tmpfs: mount a tmpfs on new_root, then \
             pivot_root into it",
            root.fstype
        )
    })?;
    let root_dir = format!("/proc/{pid}/root");
    ensure(same_file(&root_dir, &format!("{root_dir}/.."))?, || {
        "`..` of the process's root leads out of it: use pivot_root(2), not chroot(2)".into()
    })?;
    let Some(usr) = at("/usr") else {
        return Err("nothing is mounted on /usr: bind the host's /usr there (MS_BIND | MS_REC)".into());
    };
    ensure(fs::metadata(format!("{root_dir}/usr/bin")).is_ok(), || {
        format!(
            "/usr (a {} mount) has no bin: bind the host's /usr itself",
            usr.fstype
        )
    })?;
    match access(format!("{root_dir}/usr").as_str(), AccessFlags::W_OK) {
        Err(Errno::EROFS) => {}
        _ => {
            return Err("/usr can be written: MS_RDONLY with MS_BIND is ignored by the first \
                        call; remount it with MS_REMOUNT | MS_BIND | MS_RDONLY"
                .into());
        }
    }
    let Some(proc) = at("/proc") else {
        return Err("nothing is mounted on /proc: mount a new proc there (mount(\"proc\", ...))".into());
    };
    ensure(proc.fstype == "proc", || {
        format!("/proc is a {} mount, not proc", proc.fstype)
    })?;
    let listed: Vec<u32> = fs::read_dir(format!("{root_dir}/proc"))
        .map_err(|e| format!("could not list the process's /proc: {e}"))?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    let me = getpid().as_raw() as u32;
    ensure(!listed.contains(&me) && listed.contains(&1), || {
        format!(
            "the process's /proc lists {} PIDs, the checker's among them: a bind of the host's \
             /proc shows the host's PID namespace; mount a new proc, which shows the PID \
             namespace of the process that mounts it",
            listed.len()
        )
    })?;
    let others: Vec<String> = mounts
        .iter()
        .map(|m| m.mount_point.display().to_string())
        .filter(|m| m != "/" && !m.starts_with("/usr") && !m.starts_with("/proc"))
        .collect();
    ensure(others.is_empty(), || {
        format!(
            "the old root is still mounted in the process's mount namespace ({} mounts besides \
             /, /usr and /proc, the first {}): after pivot_root(2), detach it with \
             umount2(put_old, MNT_DETACH)",
            others.len(),
            others[0]
        )
    })?;
    ensure(same_file(&format!("/proc/{pid}/cwd"), &root_dir)?, || {
        "the process's current directory is not its new root: chdir(\"/\") after pivot_root(2)"
            .into()
    })
}
