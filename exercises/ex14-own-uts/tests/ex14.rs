//! The checks of exercise 14: `cargo test -p ex14-own-uts`.
//!
//! Each case runs your code in a fresh process, as root and as an
//! unprivileged user. The harness first moves that process into a
//! throwaway UTS namespace of its own (unprivileged: inside a user namespace
//! where it is root), so that even a wrong answer cannot rename the host.
//! The checks then ask the kernel, from outside, which user namespace owns
//! the UTS namespace your process ended in (ioctl NS_GET_USERNS).

use std::fs::File;
use std::path::Path;
use std::process::ExitCode;

use ex14_own_uts as ex;
use nix::sched::{CloneFlags, unshare};
use testkit::exercise::{
    self, Case, Outcome, Probe, call, ensure, hostname_in, ns_of, report, report_ns,
    sentence, setup,
};
use workbook::ns::NsId;

const NAME: &str = "ex14-owned";

pub fn main() -> ExitCode {
    exercise::main(
        "ex14",
        &[
            Case::new(
                "own_uts_makes_a_uts_namespace_its_user_namespace_owns",
                owns,
            )
            .check(owned),
            Case::new("owner_of_asks_the_kernel", asks),
            Case::new("owner_of_returns_the_kernels_refusals", refusals),
        ],
    )
}

fn owns() -> Outcome {
    exercise::isolate(CloneFlags::CLONE_NEWUTS)?;
    report_ns(
        "start_user",
        setup("reading /proc/self/ns/user", NsId::current("user"))?,
    );
    report_ns(
        "start_uts",
        setup("reading /proc/self/ns/uts", NsId::current("uts"))?,
    );
    // Parked whatever own_uts returned: the check judges by the kernel first,
    // which names the mistake better than the error it caused.
    match ex::own_uts(NAME) {
        Ok((user, uts)) => {
            report_ns("returned_user", user);
            report_ns("returned_uts", uts);
        }
        Err(err) => report("error", sentence(&err)),
    }
    Ok(())
}

fn owned(p: &Probe) -> Outcome {
    let (start_user, start_uts) = (p.ns("start_user")?, p.ns("start_uts")?);
    let user = ns_of(p.child, "user")?;
    let uts = ns_of(p.child, "uts")?;
    ensure(user != start_user, || {
        format!(
            "the process is still in {user}, the user namespace it started in: own_uts must \
             make a new one (unshare(CLONE_NEWUSER))"
        )
    })?;
    ensure(uts != start_uts, || {
        format!(
            "the process is still in {uts}, the UTS namespace it started in, which belongs to \
             the user namespace above: a new user namespace alone does not make the UTS namespace \
             you are in yours; create a UTS namespace after the user namespace"
        )
    })?;
    let owner = owner_seen_from_here(p.child)?;
    ensure(owner == user, || match owner == start_user {
        true => format!(
            "the new UTS namespace {uts} belongs to {start_user}, the user namespace the \
             process was in before: it was created before the user namespace. Create the \
             user namespace first (or pass both flags to one unshare(2): the kernel makes the \
             user namespace first)"
        ),
        false => {
            format!("the new UTS namespace {uts} belongs to {owner}, not to {user}")
        }
    })?;
    if let Ok(error) = p.get("error") {
        return Err(format!("own_uts({NAME:?}) returned an error: {error}"));
    }
    let seen = hostname_in(p.child)?;
    ensure(seen == NAME, || {
        format!(
            "the hostname in the process's UTS namespace {uts} is {seen:?}, not {NAME:?}"
        )
    })?;
    let (returned_user, returned_uts) =
        (p.ns("returned_user")?, p.ns("returned_uts")?);
    ensure(returned_user == user && returned_uts == uts, || {
        format!(
            "own_uts returned ({returned_user}, {returned_uts}), but the kernel shows the \
             process in {user} and {uts}"
        )
    })
}

/// NS_GET_USERNS on `/proc/PID/ns/uts`, asked by the tests' process, above
/// the case's user namespaces.
fn owner_seen_from_here(pid: nix::unistd::Pid) -> Result<NsId, String> {
    let path = format!("/proc/{pid}/ns/uts");
    let file =
        File::open(&path).map_err(|e| format!("could not open {path}: {e}"))?;
    workbook::nsfs::owner_id(&file, &format!("fd of {path:?}")).map_err(|e| {
        format!(
            "the test could not ask the owner of {path}: {}",
            sentence(&e)
        )
    })
}

fn asks() -> Outcome {
    setup(
        "unshare(CLONE_NEWUSER | CLONE_NEWUTS)",
        unshare(CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWUTS),
    )?;
    let user = setup("reading /proc/self/ns/user", NsId::current("user"))?;
    let got = call(
        "owner_of(\"/proc/self/ns/uts\")",
        ex::owner_of(Path::new("/proc/self/ns/uts")),
    )?;
    ensure(got == user, || match got.ns_type {
        "uts" => format!(
            "owner_of(\"/proc/self/ns/uts\") returned {got}, the UTS namespace itself: stat(2) \
             names the file's own namespace; its owner is what ioctl(fd, NS_GET_USERNS) returns"
        ),
        _ => format!(
            "owner_of(\"/proc/self/ns/uts\") returned {got}, but the kernel says {user} owns it"
        ),
    })
}

/// Two questions the kernel refuses: the owner of a namespace above this
/// process's user namespace (EPERM), and a file that is no namespace
/// (ENOTTY). Both must come back as errors.
fn refusals() -> Outcome {
    setup("unshare(CLONE_NEWUSER)", unshare(CloneFlags::CLONE_NEWUSER))?;
    for (file, why) in [
        (
            "/proc/self/ns/net",
            "the user namespace above owns it, and the kernel answers EPERM about namespaces \
             above your own",
        ),
        (
            "/proc/self/status",
            "it is no namespace file, and the kernel answers ENOTTY",
        ),
    ] {
        let result = ex::owner_of(Path::new(file));
        ensure(result.is_err(), || {
            format!(
                "owner_of({file:?}) returned Ok({}), but {why}: return the ioctl's error",
                result.as_ref().map(ToString::to_string).unwrap_or_default()
            )
        })?;
    }
    Ok(())
}
