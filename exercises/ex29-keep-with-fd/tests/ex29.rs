//! The checks of exercise 29: `cargo test -p ex29-keep-with-fd`.
//!
//! Each case runs your code in a fresh process, as root and as an
//! unprivileged user (then inside a user namespace of its own). A helper
//! process of the tests makes a UTS namespace; the tests name it by its
//! file handle, which holds nothing, and ask the kernel (open_by_handle_at,
//! ESTALE once it is gone) whether it lives: after the helper exits, and
//! after your fd is closed.

use std::os::fd::OwnedFd;
use std::process::ExitCode;
use std::time::Duration;

use ex29_keep_with_fd as ex;
use nix::sched::CloneFlags;
use testkit::exercise::{self, Case, Outcome, call, ensure, setup};
use workbook::ns::{NsId, Proc};
use workbook::nsfs_handle::Handle;
use workbook::target::Target;

/// Longer than any release seen here (a UTS namespace goes at once).
const DEADLINE: Duration = Duration::from_secs(2);

pub fn main() -> ExitCode {
    exercise::main(
        "ex29",
        &[
            Case::new("keep_holds_it_after_its_process_exits", keeps),
            Case::new("is_alive_answers_and_holds_nothing", answers),
        ],
    )
}

/// A helper in a new UTS namespace, its identity and its handle.
fn helper() -> Result<(Target, NsId, Handle), String> {
    let target = setup(
        "starting a helper",
        Target::spawn(CloneFlags::CLONE_NEWUTS, "ex29"),
    )?;
    let pid = target.pid();
    let ns = setup("reading its uts", NsId::of(Proc::Pid(pid), "uts"))?;
    let handle = setup(
        "name_to_handle_at",
        Handle::of_path(&format!("/proc/{pid}/ns/uts")),
    )?;
    Ok((target, ns, handle))
}

/// The test's own question, which holds nothing either.
fn lives(handle: &Handle) -> Result<bool, String> {
    setup("open_by_handle_at", handle.is_alive())
}

fn keeps() -> Outcome {
    let (target, ns, handle) = helper()?;
    let pid = target.pid();
    let fd: OwnedFd = call(&format!("keep({pid})"), ex::keep(pid))?;
    let held = NsId::of_fd("uts", &fd, "the fd keep returned");
    let mine = setup("reading /proc/self/ns/uts", NsId::current("uts"))?;
    match held {
        Ok(held) if held == ns => {}
        Ok(held) if held.dev != ns.dev => {
            return Err(format!(
                "keep returned an fd that is not a namespace file (st_dev {}, not nsfs's): open /proc/{pid}/ns/uts itself",
                held.dev
            ));
        }
        Ok(held) if held == mine => {
            return Err(format!(
                "keep returned an fd of {held}, the caller's own UTS namespace, not {ns}, process {pid}'s: open /proc/{pid}/ns/uts, not /proc/self/ns/uts"
            ));
        }
        Ok(held) => {
            return Err(format!("keep returned an fd of {held}, not of {ns}"));
        }
        Err(err) => return Err(format!("fstat of the fd keep returned: {err}")),
    }
    setup("ending the helper", target.finish())?;
    ensure(lives(&handle)?, || {
        format!("{ns} died with its last process although keep's fd was open")
    })?;
    drop(fd);
    ensure(handle.wait_gone(DEADLINE).is_ok(), || {
        format!(
            "{ns} is still alive {} s after the fd keep returned was closed: keep leaves another fd of it open (one never closed, or a copy)",
            DEADLINE.as_secs()
        )
    })
}

fn answers() -> Outcome {
    let (target, ns, handle) = helper()?;
    let answer = call("is_alive(handle)", ex::is_alive(&handle))?;
    ensure(answer, || {
        format!("is_alive said false for {ns}, while a process is in it")
    })?;
    setup("ending the helper", target.finish())?;
    // Its only holder has gone: if is_alive kept an fd, the namespace lives.
    ensure(handle.wait_gone(DEADLINE).is_ok(), || {
        format!(
            "{ns} outlived its last process: is_alive left the fd it opened open, and so held the namespace it was asked about (close it, or let it drop)"
        )
    })?;
    match ex::is_alive(&handle) {
        Ok(false) => Ok(()),
        Ok(true) => Err(format!(
            "is_alive said true for {ns}, which the kernel says is gone (open_by_handle_at gives ESTALE)"
        )),
        Err(err) => Err(format!(
            "is_alive returned an error for {ns}, which is gone: \"{}\"; ESTALE is the kernel's answer \"gone\", Ok(false)",
            exercise::sentence(&err)
        )),
    }
}
