//! Chapter 1: what is a namespace?
//!
//! A namespace wraps one kind of kernel resource (hostnames, mounts, PIDs,
//! network devices...) so that the processes inside see their own copy. Every
//! process is in exactly one namespace of each type, and the kernel shows
//! which in `/proc/PID/ns/`: one symbolic link per type, whose text names the
//! namespace, `uts:[4026531838]`.
//!
//! This example reads those links for itself, shows what a namespace's
//! identity really is, and forks a child to show that it inherits every one.
//!
//! Read: namespaces(7), proc(5) ("/proc/pid/ns/"), fork(2).

use std::process::ExitCode;

use nix::fcntl::readlink;
use nix::sys::stat::{major, minor};
use workbook::cli::{self, Args};
use workbook::ns::{NsId, Proc};
use workbook::process;
use workbook::say;
use workbook::{Error, Result};

const USAGE: &str = "\
Usage: ch01-what-is-a-namespace

Prints every namespace this process is in, as the kernel names them in
/proc/self/ns; shows that a namespace's identity is the (st_dev, st_ino) pair
of its nsfs file; then forks a child and shows it is in the same ones.

Needs no privilege. Read namespaces(7).
";

/// The links of `/proc/PID/ns/` (namespaces(7)). The two `*_for_children`
/// links name the namespace this process's next children will start in; they
/// differ from `pid` and `time` only after unshare(CLONE_NEWPID or
/// CLONE_NEWTIME), which do not move the caller itself.
const LINKS: [&str; 10] = [
    "cgroup",
    "ipc",
    "mnt",
    "net",
    "pid",
    "pid_for_children",
    "time",
    "time_for_children",
    "user",
    "uts",
];

fn main() -> ExitCode {
    cli::main(USAGE, lesson)
}

fn lesson(args: Args) -> Result<()> {
    args.finish()?;
    let parent = std::process::id();

    // ANCHOR: links
    say!("process {parent} reads its namespaces from /proc/self/ns:");
    let mut parent_ns = Vec::new();
    for link in LINKS {
        let path = format!("/proc/self/ns/{link}");
        // readlink(2) gives the text `type:[inode]`; stat(2) gives the pair
        // that identifies the namespace.
        let text = readlink(path.as_str())
            .map_err(|e| Error::sys(format!("readlink({path})"), e))?;
        let id = NsId::of(Proc::Current, link)?;
        say!("  {link:<18} {}", text.to_string_lossy());
        parent_ns.push(id);
    }
    // ANCHOR_END: links

    // ANCHOR: identity
    let uts = NsId::current("uts")?;
    say!("a namespace's identity is the (st_dev, st_ino) pair of its nsfs file:");
    say!(
        "  stat(/proc/self/ns/uts) -> st_dev {}:{}, st_ino {}",
        major(uts.dev),
        minor(uts.dev),
        uts.ino
    );
    say!(
        "  the number in the link text is that st_ino; compare st_dev as well, since"
    );
    say!("  inode numbers are only unique within one filesystem");
    // ANCHOR_END: identity

    // ANCHOR: inherit
    // fork(2) without any CLONE_NEW* flag: the child starts in every one of
    // its parent's namespaces. The child prints, then the parent waits for
    // it, so the lines always come in this order.
    say!("process {parent} forks a child");
    let child = process::fork_child(&[], || {
        let me = std::process::id();
        say!("process {me} (child) reads its own /proc/self/ns:");
        let mut differ = 0;
        for (link, parent_id) in LINKS.iter().zip(&parent_ns) {
            let id = NsId::of(Proc::Current, link)?;
            let verdict = if id == *parent_id {
                "same as parent"
            } else {
                "DIFFERENT"
            };
            differ += usize::from(id != *parent_id);
            say!("  {link:<18} {verdict:<15} {id}");
        }
        match differ {
            0 => Ok(()),
            n => Err(Error::refused(
                format!("{n} namespaces differ from the parent's"),
                "",
            )),
        }
    })?;
    child.wait()?;
    say!(
        "process {parent}: the child was in all {} of its parent's namespaces; children inherit them",
        LINKS.len()
    );
    // ANCHOR_END: inherit
    Ok(())
}
