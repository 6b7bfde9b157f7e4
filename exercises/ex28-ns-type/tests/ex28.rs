//! The checks of exercise 28: `cargo test -p ex28-ns-type`.
//!
//! Each case runs your code in a fresh process, as root and as an
//! unprivileged user (inside a user namespace where it is root). It hands
//! your functions fds of every type of namespace, fds the kernel returned
//! for namespaces the process is not in (NS_GET_USERNS of a helper's), and
//! fds of files that are no namespaces, and compares your answers with the
//! type each was opened as and with fstat(2).

use std::os::fd::{AsFd, OwnedFd};
use std::process::ExitCode;

use ex28_ns_type as ex;
use nix::sched::{CloneFlags, unshare};
use testkit::exercise::{
    self, Case, Outcome, Parked, call, ensure, new_user_namespace, sentence, setup,
};
use workbook::ns::NsId;
use workbook::nsfs;

pub fn main() -> ExitCode {
    exercise::main(
        "ex28",
        &[
            Case::new("names_every_type", every_type),
            Case::new("names_an_owner_the_process_is_not_in", unknown_origin),
            Case::new("a_file_that_is_no_namespace_is_enotty", not_a_namespace),
        ],
    )
}

fn open(path: &str) -> Result<OwnedFd, String> {
    let file = setup(&format!("open({path:?})"), std::fs::File::open(path))?;
    Ok(file.into())
}

/// Every link of /proc/self/ns, the `*_for_children` ones included, in an
/// order that is not TYPES's.
fn every_type() -> Outcome {
    // A new time namespace for the children, so that time_for_children
    // exists apart from time.
    let newtime = CloneFlags::from_bits_retain(libc_clone_newtime());
    setup("unshare(CLONE_NEWTIME)", unshare(newtime))?;
    let links = [
        ("uts", "uts"),
        ("user", "user"),
        ("pid_for_children", "pid"),
        ("time_for_children", "time"),
        ("net", "net"),
        ("cgroup", "cgroup"),
        ("mnt", "mnt"),
        ("ipc", "ipc"),
        ("pid", "pid"),
        ("time", "time"),
    ];
    for (link, expected) in links {
        let path = format!("/proc/self/ns/{link}");
        let fd = open(&path)?;
        let got =
            call(&format!("ns_type(fd of {path:?})"), ex::ns_type(fd.as_fd()))?;
        ensure(got == expected, || {
            format!(
                "ns_type(fd of {path:?}) returned {got:?}, but it is a {expected} namespace: \
                 NS_GET_NSTYPE answers a CLONE_NEW* flag; find its name in workbook::ns::TYPES"
            )
        })?;
    }
    Ok(())
}

/// CLONE_NEWTIME (0x80), which nix's CloneFlags lacks (see workbook::ns).
fn libc_clone_newtime() -> i32 {
    workbook::ns::TYPES
        .iter()
        .find(|(name, _)| *name == "time")
        .map_or(0x80, |(_, flag)| flag.bits())
}

/// The owner of a helper's UTS namespace: a user namespace this process is
/// not in, reached only through the fd NS_GET_USERNS returned.
fn unknown_origin() -> Outcome {
    let helper = Parked::spawn(|| {
        new_user_namespace()?;
        setup("unshare(CLONE_NEWUTS)", unshare(CloneFlags::CLONE_NEWUTS))?;
        Ok(())
    })?;
    let path = format!("/proc/{}/ns/uts", helper.pid());
    let owner = setup("NS_GET_USERNS", nsfs::owner(open(&path)?, "fd"))?;
    let expected = setup("fstat", NsId::of_fd("user", &owner, "owner"))?;
    let got = ex::ns_type(owner.as_fd()).map_err(|err| {
        format!(
            "ns_type(owner_fd) failed ({}), but the fd is a user namespace ({expected}) that \
             NS_GET_USERNS returned, one this process is not in: comparing with /proc/self/ns \
             cannot find it; ask the kernel with ioctl NS_GET_NSTYPE",
            sentence(&err)
        )
    })?;
    ensure(got == "user", || {
        format!(
            "ns_type(owner_fd) returned {got:?}, but NS_GET_USERNS returned a user namespace \
             ({expected}), one this process is not in: only ioctl NS_GET_NSTYPE can tell"
        )
    })?;
    let described = call("describe(owner_fd)", ex::describe(owner.as_fd()))?;
    ensure(described == expected, || {
        format!(
            "describe(owner_fd) returned {described} (st_dev {}, st_ino {}), but fstat(2) of the \
             fd gives {expected} (st_dev {}, st_ino {}): the identity is the file's own pair",
            described.dev, described.ino, expected.dev, expected.ino
        )
    })?;
    helper.finish()
}

/// A plain file and a pipe: the kernel answers ENOTTY, to be returned.
fn not_a_namespace() -> Outcome {
    let status = open("/proc/self/status")?;
    let (read_end, _write_end) = setup("pipe()", nix::unistd::pipe())?;
    for (what, fd) in [
        ("fd of \"/proc/self/status\"", status.as_fd()),
        ("a pipe", read_end.as_fd()),
    ] {
        match ex::ns_type(fd) {
            Ok(name) => {
                return Err(format!(
                    "ns_type({what}) returned {name:?}, but it is no namespace: ioctl(fd, \
                     NS_GET_NSTYPE) fails with ENOTTY; return that error"
                ));
            }
            Err(err) => {
                ensure(err.errno() == Some(nix::errno::Errno::ENOTTY), || {
                    format!(
                        "ns_type({what}) failed with {}, but the kernel's answer is ENOTTY: return \
                     the ioctl's own error",
                        sentence(&err)
                    )
                })?
            }
        }
    }
    Ok(())
}
