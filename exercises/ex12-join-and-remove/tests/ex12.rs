//! The checks of exercise 12: `cargo test -p ex12-join-and-remove`.
//!
//! Each case runs your code in a fresh process, as root and as an
//! unprivileged user, first moved into a throwaway mount namespace of its own
//! with `/` private. There the tests keep a UTS namespace on a file (the
//! process it came from has exited) before calling your code; the checks read
//! that process's namespaces, mount table and files through `/proc/PID`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ex12_join_and_remove as ex;
use nix::mount::{MsFlags, mount};
use nix::sched::CloneFlags;
use testkit::exercise::{
    self, Case, Outcome, Probe, call, ensure, hostname_in, mount_at, ns_file_in,
    ns_of, path_in, report, report_ns, setup,
};
use workbook::ns::{NsId, Proc};
use workbook::target::Target;

const NAME: &str = "ex12-kept";
const KEEP: &str = "notes that are not yours\n";

pub fn main() -> ExitCode {
    exercise::main(
        "ex12",
        &[
            Case::new("joins_after_the_last_process_left", joins).check(joined),
            Case::new("remove_unmounts_and_deletes", removes).check(removed),
            Case::new("remove_refuses_what_is_not_a_namespace", refuses)
                .check(untouched),
        ],
    )
}

/// A private mount namespace, and a UTS namespace named NAME kept on a file
/// after its process exited, as exercise 11 makes it.
fn kept() -> Result<PathBuf, String> {
    exercise::isolate(CloneFlags::CLONE_NEWNS)?;
    let path = exercise::temp_dir()?.join("uts");
    report("path", path.display());
    let target = setup(
        "starting the target",
        Target::spawn(CloneFlags::CLONE_NEWUTS, NAME),
    )?;
    let pid = target.pid();
    report_ns(
        "kept",
        setup("reading its uts", NsId::of(Proc::Pid(pid), "uts"))?,
    );
    setup("creating the file", fs::write(&path, ""))?;
    let source = format!("/proc/{pid}/ns/uts");
    setup(
        "bind-mounting the namespace",
        mount(
            Some(source.as_str()),
            &path,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        ),
    )?;
    setup("ending the target", target.finish())?;
    Ok(path)
}

fn joins() -> Outcome {
    let path = kept()?;
    call(
        &format!("join_file({})", path.display()),
        ex::join_file(&path),
    )
}

fn joined(p: &Probe) -> Outcome {
    let (now, kept) = (ns_of(p.child, "uts")?, p.ns("kept")?);
    ensure(now == kept, || {
        format!(
            "the process is in {now}, not in {kept}, the namespace kept on the file"
        )
    })?;
    let on_file = ns_file_in(p.child, "uts", &p.path("path")?)?;
    ensure(on_file == kept, || {
        format!("the file now names {on_file} (a bug in the test)")
    })?;
    let seen = hostname_in(p.child)?;
    ensure(seen == NAME, || {
        format!("the hostname the process now sees is {seen:?}, not {NAME:?}")
    })
}

fn removes() -> Outcome {
    let path = kept()?;
    call(&format!("remove({})", path.display()), ex::remove(&path))
}

fn removed(p: &Probe) -> Outcome {
    let path = p.path("path")?;
    let left = mount_at(p.child, &path)?;
    ensure(left.is_none(), || {
        format!(
            "after remove, the kernel still shows {} mounted on {}",
            left.map(|m| m.fstype).unwrap_or_default(),
            path.display()
        )
    })?;
    ensure(!path_in(p.child, &path).exists(), || {
        format!("after remove, the file {} is still there", path.display())
    })
}

/// Two things remove must not touch: a plain file, and a tmpfs mounted on a
/// directory. (A plain umount2 of the latter would succeed.)
fn refuses() -> Outcome {
    exercise::isolate(CloneFlags::CLONE_NEWNS)?;
    let dir = exercise::temp_dir()?;
    let notes = dir.join("notes");
    setup("writing a file", fs::write(&notes, KEEP))?;
    let tmpfs = dir.join("tmpfs");
    setup("mkdir", fs::create_dir(&tmpfs))?;
    setup(
        "mounting a tmpfs",
        mount(
            Some("tmpfs"),
            &tmpfs,
            Some("tmpfs"),
            MsFlags::empty(),
            Some("size=1M"),
        ),
    )?;
    report("notes", notes.display());
    report("tmpfs", tmpfs.display());
    for path in [&notes, &tmpfs] {
        let result = ex::remove(path);
        ensure(result.is_err(), || {
            format!(
                "remove({}) returned Ok for something that is not a namespace file",
                path.display()
            )
        })?;
    }
    Ok(())
}

fn untouched(p: &Probe) -> Outcome {
    let notes = p.path("notes")?;
    let text = fs::read_to_string(path_in(p.child, &notes)).unwrap_or_default();
    ensure(text == KEEP, || {
        format!("the file {} was changed or removed", notes.display())
    })?;
    let tmpfs = p.path("tmpfs")?;
    let mounted = mount_at(p.child, Path::new(&tmpfs))?;
    ensure(mounted.is_some_and(|m| m.fstype == "tmpfs"), || {
        format!(
            "the tmpfs on {} was unmounted: remove must refuse what is not a namespace",
            tmpfs.display()
        )
    })
}
