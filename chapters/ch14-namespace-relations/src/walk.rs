//! Walking up from a namespace with NS_GET_PARENT, and two small helpers
//! the other files share.

use std::fs::File;
use std::os::fd::OwnedFd;

use nix::errno::Errno;
use workbook::error::Context;
use workbook::ns::NsId;
use workbook::{Result, nsfs, say};

// ANCHOR: walk_up
/// NS_GET_PARENT from `start` up, one step a line, until the kernel says
/// EPERM: nothing above is in this process's sight. Each fd is closed
/// (dropped) once its parent is read; the kernel opened them O_CLOEXEC.
pub(crate) fn walk_up(
    start: OwnedFd,
    what: &str,
    ns_type: &'static str,
) -> Result<Vec<NsId>> {
    let me = std::process::id();
    let mut chain = vec![NsId::of_fd(ns_type, &start, what)?];
    let (mut fd, mut name) = (start, what.to_owned());
    loop {
        match nsfs::parent(&fd, &name) {
            Ok(parent) => {
                let id = NsId::of_fd(ns_type, &parent, "parent_fd")?;
                say!(
                    "process {me}: ioctl({name}, NS_GET_PARENT) -> fd of {id}, ns_id {}",
                    ns_id(&parent, "parent_fd")?
                );
                chain.push(id);
                (fd, name) = (parent, format!("fd of {id}"));
            }
            // ioctl_ns(2), EPERM: the parent is outside the caller's scope,
            // or there is none (the initial namespace).
            Err(err) if err.errno() == Some(Errno::EPERM) => {
                let last = chain[chain.len() - 1];
                let whose = match NsId::current(ns_type)? == last {
                    true => {
                        format!("{last} is this process's own {ns_type} namespace")
                    }
                    false => format!("this process may not see above {last}"),
                };
                say!(
                    "process {me}: ioctl({name}, NS_GET_PARENT) -> EPERM: the end of the \
                     walk, {whose}"
                );
                return Ok(chain);
            }
            Err(err) => return Err(err),
        }
    }
}
// ANCHOR_END: walk_up

/// NS_GET_ID as text: the number, or why there is none (Linux before 6.18).
pub(crate) fn ns_id(fd: &OwnedFd, what: &str) -> Result<String> {
    Ok(match nsfs::id(fd, what)? {
        Some(id) => id.to_string(),
        None => "unknown (NS_GET_ID needs Linux 6.18)".into(),
    })
}

/// open(2) a namespace file (or any file) read-only.
pub(crate) fn open(path: &str) -> Result<OwnedFd> {
    let file = File::open(path).call(|| format!("open(\"{path}\", O_RDONLY)"))?;
    Ok(file.into())
}
