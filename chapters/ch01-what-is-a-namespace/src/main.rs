//! Chapter 1: what is a namespace?
//!
//! A namespace wraps one kind of kernel resource (hostnames, mounts, PIDs,
//! network devices...) so that the processes inside see their own copy. Every
//! thread is in exactly one namespace of each type the kernel was built with,
//! and the kernel shows which in `/proc/PID/ns/`: one symbolic link per type,
//! whose text names the namespace, `uts:[4026531838]`.
//!
//! This example reads those links for itself, shows what a namespace's
//! identity really is, and forks a child to show that it inherits every one.
//!
//! Read: namespaces(7), proc(5) ("/proc/pid/ns/"), fork(2).

use std::path::Path;
use std::process::ExitCode;

use nix::fcntl::readlink;
use nix::sys::stat::{major, minor};
use workbook::cli::{self, Args};
use workbook::error::Context;
use workbook::ns::{self, NsId, Proc};
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

fn main() -> ExitCode {
    cli::main(USAGE, lesson)
}

/// The names of the links in the directory `ns_dir` (a `/proc/PID/ns/`),
/// sorted. namespaces(7): one link per namespace type, plus
/// `pid_for_children` and `time_for_children`, which name the namespaces the
/// process's next children will start in. They differ from `pid` and `time`
/// after unshare(CLONE_NEWPID or CLONE_NEWTIME) or setns(2) into a PID
/// namespace, which do not move the caller itself (setns(2) into a time
/// namespace moves it, and changes both links). Ten links on a kernel built
/// with every namespace type; a kernel built without one (CONFIG_TIME_NS=n,
/// say) has no link for it, so the example lists what is there.
fn ns_links(ns_dir: &Path) -> Result<Vec<String>> {
    let call = || format!("opendir(\"{}\")", ns_dir.display());
    let mut links = Vec::new();
    for entry in std::fs::read_dir(ns_dir).call(call)? {
        let name = entry.call(call)?.file_name();
        links.push(name.to_string_lossy().into_owned());
    }
    links.sort();
    Ok(links)
}

/// Whether this workbook knows the namespace type of link `name`: one of the
/// eight types, or its `*_for_children` link. A newer kernel may have more.
fn known_type(name: &str) -> bool {
    let base = name.strip_suffix("_for_children").unwrap_or(name);
    ns::TYPES.iter().any(|(ns_type, _)| *ns_type == base)
}

fn lesson(args: Args) -> Result<()> {
    args.finish()?;
    let parent = std::process::id();

    // ANCHOR: links
    say!("process {parent} reads its namespaces from /proc/self/ns:");
    // What this kernel has, rather than a list typed in: a kernel built
    // without a namespace type has no link for it.
    let mut links = ns_links(Path::new("/proc/self/ns"))?;
    let mut parent_ns = Vec::new();
    for link in &links {
        let path = format!("/proc/self/ns/{link}");
        // readlink(2) gives the text `type:[inode]`; stat(2) gives the pair
        // that identifies the namespace.
        let text = readlink(path.as_str())
            .map_err(|e| Error::sys(format!("readlink(\"{path}\")"), e))?;
        say!("  {link:<18} {}", text.to_string_lossy());
        if known_type(link) {
            parent_ns.push(NsId::of(Proc::Current, link)?);
        }
    }
    // A type newer than this workbook is shown, but not compared below.
    links.retain(|link| known_type(link));
    // ANCHOR_END: links

    // ANCHOR: identity
    let uts = NsId::current("uts")?;
    say!("a namespace's identity is the (st_dev, st_ino) pair of its nsfs file:");
    say!(
        "  stat(\"/proc/self/ns/uts\") -> st_dev {}:{}, st_ino {}",
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
        for (link, parent_id) in links.iter().zip(&parent_ns) {
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
        links.len()
    );
    // ANCHOR_END: inherit
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// This kernel's /proc/self/ns: every entry is a type we know, with
    /// `uts` among them, sorted, and no name twice.
    #[test]
    fn lists_this_kernels_links() {
        let links = ns_links(Path::new("/proc/self/ns")).unwrap();
        assert!(links.iter().any(|l| l == "uts"), "{links:?}");
        assert!(links.iter().all(|l| known_type(l)), "{links:?}");
        assert!(links.windows(2).all(|w| w[0] < w[1]), "{links:?}");
    }

    /// A kernel built without time namespaces (CONFIG_TIME_NS=n), imitated
    /// by a directory with the other eight entries: the listing has those
    /// eight and no `time`, where a fixed list of ten would fail.
    #[test]
    fn lists_what_a_kernel_without_time_has() {
        let dir = std::env::temp_dir().join(format!(
            "ch01-what-is-a-namespace.test.{}",
            std::process::id()
        ));
        std::fs::create_dir(&dir).unwrap();
        let names = [
            "user",
            "uts",
            "net",
            "ipc",
            "mnt",
            "pid",
            "pid_for_children",
            "cgroup",
        ];
        for name in names {
            std::fs::File::create(dir.join(name)).unwrap();
        }
        let links = ns_links(&dir);
        std::fs::remove_dir_all(&dir).unwrap();
        let mut expected = names.map(String::from).to_vec();
        expected.sort();
        assert_eq!(links.unwrap(), expected);
    }

    #[test]
    fn knows_the_eight_types_and_their_children_links() {
        assert!(known_type("time_for_children"));
        assert!(known_type("cgroup"));
        assert!(!known_type("newtype"));
        assert!(!known_type("uts_for_grandchildren"));
    }
}
