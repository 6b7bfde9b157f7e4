//! The checks of exercise 27: `cargo test -p ex27-parent-chain`.
//!
//! Each case runs your code in a fresh process, as root and as an
//! unprivileged user (inside a user namespace where it is root). The case
//! builds a family of namespaces of its own: user namespaces nested below
//! its own, held by a helper process, or a PID namespace whose PID 1 is a
//! helper. It then asks your `parent_chain` about them and compares the
//! answer with what the kernel shows the case itself.

use std::os::fd::{AsFd, OwnedFd};
use std::process::ExitCode;

use ex27_parent_chain as ex;
use nix::sched::{CloneFlags, unshare};
use testkit::exercise::{
    self, Case, Outcome, Parked, ensure, new_user_namespace, sentence, setup,
};
use workbook::ns::NsId;
use workbook::nsfs;

pub fn main() -> ExitCode {
    exercise::main(
        "ex27",
        &[
            Case::new("walks_user_namespaces_up_to_eperm", user_chain),
            Case::new("walks_pid_namespaces_too", pid_chain),
            Case::new("other_refusals_are_errors", refusals),
        ],
    )
}

fn open(path: &str) -> Result<OwnedFd, String> {
    let file = setup(&format!("open({path:?})"), std::fs::File::open(path))?;
    Ok(file.into())
}

/// The process's open descriptors, counted in /proc/self/fd.
fn open_fds() -> Result<usize, String> {
    Ok(setup("reading /proc/self/fd", std::fs::read_dir("/proc/self/fd"))?.count())
}

/// `parent_chain(fd)` compared with `expected`; no fd may stay open.
fn judge(path: &str, expected: &[NsId]) -> Outcome {
    let fd = open(path)?;
    let before = open_fds()?;
    let result = ex::parent_chain(fd.as_fd());
    let after = open_fds()?;
    let got = match result {
        Ok(got) => got,
        Err(err) if err.errno() == Some(nix::errno::Errno::EPERM) => {
            return Err(format!(
                "parent_chain(fd of {path:?}) returned the error {}: EPERM is the end of the \
                 walk (nothing above is in this process's sight), return the chain found",
                sentence(&err)
            ));
        }
        Err(err) => {
            return Err(format!(
                "parent_chain(fd of {path:?}) failed: {}",
                sentence(&err)
            ));
        }
    };
    let shown = |chain: &[NsId]| {
        chain
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" -> ")
    };
    ensure(got.first() == expected.first(), || {
        format!(
            "parent_chain(fd of {path:?}) returned {}: the chain starts with the namespace of \
             the fd itself, {}",
            shown(&got),
            expected[0]
        )
    })?;
    ensure(got == expected, || match got.len() < expected.len() {
        true => format!(
            "parent_chain(fd of {path:?}) returned {}, but the kernel shows {}: keep asking \
             NS_GET_PARENT of each parent until EPERM",
            shown(&got),
            shown(expected)
        ),
        false => format!(
            "parent_chain(fd of {path:?}) returned {}, but the kernel shows {}",
            shown(&got),
            shown(expected)
        ),
    })?;
    ensure(after == before, || {
        format!(
            "parent_chain left {} more descriptor(s) open: each fd NS_GET_PARENT returns is a \
             new open file; drop (close) it once its parent is read",
            after.saturating_sub(before)
        )
    })
}

/// Three user namespaces: the case's own, then two below it held by a
/// helper. From the case, the walk from the deepest goes up to its own
/// (its parent is above, out of sight: EPERM).
fn user_chain() -> Outcome {
    new_user_namespace()?;
    let own = setup("reading /proc/self/ns/user", NsId::current("user"))?;
    let helper = Parked::spawn(|| {
        new_user_namespace()?;
        new_user_namespace()
    })?;
    let path = format!("/proc/{}/ns/user", helper.pid());
    let deep = setup("stat", NsId::of_file("user", &path))?;
    let middle_fd = setup("NS_GET_PARENT", nsfs::parent(open(&path)?, "fd"))?;
    let middle = setup("fstat", NsId::of_fd("user", &middle_fd, "middle"))?;
    drop(middle_fd);
    judge(&path, &[deep, middle, own])?;
    helper.finish()
}

/// A PID namespace whose PID 1 is a helper: its chain is it, then the
/// case's own PID namespace (whose parent, if any, is out of sight).
fn pid_chain() -> Outcome {
    let own = setup("reading /proc/self/ns/pid", NsId::current("pid"))?;
    setup("unshare(CLONE_NEWPID)", unshare(CloneFlags::CLONE_NEWPID))?;
    let helper = Parked::spawn(|| Ok(()))?;
    let path = format!("/proc/{}/ns/pid", helper.pid());
    let new = setup("stat", NsId::of_file("pid", &path))?;
    judge(&path, &[new, own])?;
    helper.finish()
}

/// NS_GET_PARENT on a UTS namespace (EINVAL) and any ioctl_ns on a plain
/// file (ENOTTY) are refusals to return, not the end of a walk.
fn refusals() -> Outcome {
    for (path, why) in [
        (
            "/proc/self/ns/uts",
            "a UTS namespace has no parent and NS_GET_PARENT says EINVAL: only EPERM ends a \
             walk; return any other error",
        ),
        (
            "/proc/self/status",
            "it is no namespace file and the kernel answers ENOTTY: return that error",
        ),
    ] {
        let fd = open(path)?;
        let result = ex::parent_chain(fd.as_fd());
        ensure(result.is_err(), || {
            let got = result.as_ref().map(|c| c.len()).unwrap_or_default();
            format!(
                "parent_chain(fd of {path:?}) returned a chain of {got}, but {why}"
            )
        })?;
    }
    Ok(())
}
