//! The checks of exercise 11: `cargo test -p ex11-persist-ns`.
//!
//! Each case runs your code in a fresh process, as root and as an
//! unprivileged user, first moved into a throwaway mount namespace of its own
//! with `/` private, so that your bind mount never reaches the host. The
//! checks read that process's mount table and, through `/proc/PID/root`, the
//! file as it sees it.

use std::fs;
use std::path::Path;
use std::process::ExitCode;

use ex11_persist_ns as ex;
use nix::sched::CloneFlags;
use testkit::exercise::{
    self, Case, Outcome, Probe, call, ensure, mount_at, ns_file_in, ns_of, path_in,
    report, setup,
};
use workbook::ns::NsId;
use workbook::target::Target;

const KEEP: &str = "notes that are not yours\n";

pub fn main() -> ExitCode {
    exercise::main(
        "ex11",
        &[
            Case::new("the_bind_mount_keeps_the_namespace", persists)
                .check(bound)
                .after(outlived),
            Case::new("refuses_a_path_that_exists", refuses).check(untouched),
        ],
    )
}

fn persists() -> Outcome {
    exercise::isolate(CloneFlags::CLONE_NEWNS)?;
    let path = exercise::temp_dir()?.join("uts");
    report("path", path.display());
    let target = setup(
        "starting the target",
        Target::spawn(CloneFlags::CLONE_NEWUTS, "ex11-kept"),
    )?;
    let pid = target.pid();
    report("target", pid);
    let kept = setup(
        "reading the target's uts",
        NsId::of(workbook::ns::Proc::Pid(pid), "uts"),
    )?;
    call(
        &format!("persist_uts({pid}, {})", path.display()),
        ex::persist_uts(pid, &path),
    )?;
    exercise::park();
    setup("ending the target", target.finish())?;
    // The target is gone; the file must still name its namespace.
    match NsId::of_file("uts", &path) {
        Ok(id) if id == kept => report("outlived", "yes"),
        Ok(id) => {
            report("outlived", format!("no: {} now names {id}", path.display()))
        }
        Err(err) => report("outlived", format!("no: {err}")),
    }
    Ok(())
}

fn bound(p: &Probe) -> Outcome {
    let path = p.path("path")?;
    match mount_at(p.child, &path)? {
        Some(m) if m.fstype == "nsfs" => {}
        Some(m) => {
            return Err(format!(
                "{} has a {} mounted on it, not a namespace (nsfs)",
                path.display(),
                m.fstype
            ));
        }
        None => {
            return Err(format!(
                "the kernel shows nothing mounted on {} in the process's mount namespace",
                path.display()
            ));
        }
    }
    let (bound, theirs) = (
        ns_file_in(p.child, "uts", &path)?,
        ns_of(p.pid("target")?, "uts")?,
    );
    ensure(bound == theirs, || {
        format!(
            "{} names {bound}, not the target's {theirs}",
            path.display()
        )
    })
}

fn outlived(r: &exercise::Report) -> Outcome {
    let outlived = r.get("outlived")?;
    ensure(outlived == "yes", || {
        format!("after the target exited, the namespace did not live on: {outlived}")
    })
}

fn refuses() -> Outcome {
    exercise::isolate(CloneFlags::CLONE_NEWNS)?;
    let path = exercise::temp_dir()?.join("notes");
    setup("writing a file", fs::write(&path, KEEP))?;
    report("path", path.display());
    let target = setup(
        "starting the target",
        Target::spawn(CloneFlags::CLONE_NEWUTS, "ex11-kept"),
    )?;
    let pid = target.pid();
    let result = ex::persist_uts(pid, &path);
    ensure(result.is_err(), || {
        format!(
            "persist_uts({pid}, {}) returned Ok over a file that was already there",
            path.display()
        )
    })?;
    exercise::park();
    setup("ending the target", target.finish())
}

fn untouched(p: &Probe) -> Outcome {
    let path = p.path("path")?;
    let mounted = mount_at(p.child, &path)?;
    ensure(mounted.is_none(), || {
        format!(
            "persist_uts mounted over {}, which was not its own",
            path.display()
        )
    })?;
    let seen = path_in(p.child, Path::new(&path));
    let text = fs::read_to_string(&seen).unwrap_or_default();
    ensure(text == KEEP, || {
        format!("the file {} was changed or removed", path.display())
    })
}
