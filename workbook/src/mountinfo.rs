//! Which mount, if any, sits on a path: read from `/proc/self/mountinfo`.
//!
//! proc(5), "/proc/pid/mountinfo": one line per mount of the process's mount
//! namespace,
//!
//! ```text
//! 36 35 0:4 uts:[4026532247] /tmp/x/ns rw,relatime shared:1 - nsfs nsfs rw
//! (1)(2) (3)    (4)            (5)        (6)      (7)    (8) (9)  (10)
//! ```
//!
//! field 5 is the mount point, field 9 (after the `-`) the filesystem type.
//! The kernel escapes space, tab, newline and backslash in paths as octal
//! (`\040`, `\011`, `\012`, `\134`), so a path is decoded before comparing.
//! Mounts stacked on one point are listed in the order they were made: the
//! last one is the one a path lookup sees.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

use crate::Result;
use crate::error::Context;

/// One line of mountinfo, the parts the examples and tests read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub mount_point: PathBuf,
    pub fstype: String,
    /// The mount's source (field 10): a device, or `tmpfs`, `nsfs`...
    pub source: String,
    /// In a peer group (`shared:N` among the optional fields): mounts made
    /// below it propagate to its peers (mount_namespaces(7)).
    pub shared: bool,
    /// Its propagation, from the optional fields (proc(5)): `shared:N`,
    /// `master:N`, `unbindable`; empty when private. `propagate_from:N` (the
    /// closest peer group of a slave's master that the reader can see) is
    /// not read, like any other field.
    pub propagation: Propagation,
}

/// The optional fields of a mountinfo line that say how mount and unmount
/// events propagate (mount_namespaces(7), "Shared subtrees"; proc(5)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Propagation {
    /// `shared:N`: a member of peer group N; events below it reach its peers.
    pub peer_group: Option<u64>,
    /// `master:N`: a slave of peer group N; it receives events, sends none.
    pub master: Option<u64>,
    /// `unbindable`: a bind mount of it fails with EINVAL.
    pub unbindable: bool,
}

impl Propagation {
    /// Neither shared, nor a slave, nor unbindable: events neither in nor out.
    pub fn is_private(&self) -> bool {
        *self == Propagation::default()
    }
}

/// As the optional fields read (`shared:1 master:2`), `private` when none.
impl std::fmt::Display for Propagation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut words = Vec::new();
        if let Some(group) = self.peer_group {
            words.push(format!("shared:{group}"));
        }
        if let Some(group) = self.master {
            words.push(format!("master:{group}"));
        }
        if self.unbindable {
            words.push("unbindable".into());
        }
        match words.is_empty() {
            true => f.write_str("private"),
            false => f.write_str(&words.join(" ")),
        }
    }
}

/// mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL): the first call in a new
/// mount namespace. Its mounts start with the propagation of the ones they
/// copy, and systemd makes `/` shared, so without this a mount made in the
/// new namespace would also appear in the host's (mount_namespaces(7),
/// "Shared subtrees"). unshare(1) does the same by default.
pub fn make_root_private() -> Result<()> {
    use nix::mount::{MsFlags, mount};
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .call(|| "mount(NULL, \"/\", NULL, MS_REC | MS_PRIVATE, NULL)".into())
}

/// The mounts of the calling process's mount namespace, in order.
pub fn current() -> Result<Vec<Mount>> {
    read("/proc/self/mountinfo")
}

/// The mounts listed in a mountinfo file: `/proc/self/mountinfo`,
/// `/proc/thread-self/mountinfo` or `/proc/PID/mountinfo`.
pub fn read(mountinfo: &str) -> Result<Vec<Mount>> {
    let text =
        std::fs::read(mountinfo).call(|| format!("read(fd of \"{mountinfo}\")"))?;
    Ok(parse(&text))
}

/// The mount a lookup of `path` lands on, if `path` is a mount point. `path`
/// must be canonical (absolute, no symbolic links), as mountinfo's are.
pub fn top_mount_at(path: &Path) -> Result<Option<Mount>> {
    Ok(top_mount_in(current()?, path))
}

/// The mount among `mounts` that a lookup of `path` lands on.
pub fn top_mount_in(mounts: Vec<Mount>, path: &Path) -> Option<Mount> {
    mounts.into_iter().rfind(|mount| mount.mount_point == path)
}

fn parse(text: &[u8]) -> Vec<Mount> {
    text.split(|&b| b == b'\n')
        .filter_map(|line| {
            let fields: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
            let mount_point = fields.get(4)?;
            // Optional fields (`shared:1`...) vary in number; `-` ends them.
            let dash = fields.iter().skip(6).position(|f| *f == b"-")? + 6;
            let text = |field: &[u8]| String::from_utf8_lossy(field).into_owned();
            Some(Mount {
                mount_point: PathBuf::from(OsString::from_vec(unescape(
                    mount_point,
                ))),
                fstype: text(fields.get(dash + 1)?),
                source: text(fields.get(dash + 2)?),
                shared: fields[6..dash].iter().any(|f| f.starts_with(b"shared:")),
                propagation: propagation(&fields[6..dash]),
            })
        })
        .collect()
}

/// The optional fields that say how events propagate; others (a newer
/// kernel's) are ignored.
fn propagation(optional: &[&[u8]]) -> Propagation {
    let group = |prefix: &[u8]| {
        optional.iter().find_map(|f| {
            let digits = f.strip_prefix(prefix)?;
            std::str::from_utf8(digits).ok()?.parse().ok()
        })
    };
    Propagation {
        peer_group: group(b"shared:"),
        master: group(b"master:"),
        unbindable: optional.iter().any(|f| *f == b"unbindable"),
    }
}

/// `\040` -> a space: the kernel's octal escapes (fs/proc_namespace.c,
/// `mangle`), three digits each.
fn unescape(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        let octal = field.get(i + 1..i + 4).filter(|digits| {
            digits.iter().all(|d| (b'0'..=b'7').contains(d)) && digits[0] <= b'3'
        });
        match (field[i], octal) {
            (b'\\', Some(digits)) => {
                out.push(digits.iter().fold(0u8, |n, d| n * 8 + (d - b'0')));
                i += 4;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_decoded() {
        assert_eq!(
            unescape(br"/tmp/a\040b\011c\012d\134e"),
            b"/tmp/a b\tc\nd\\e"
        );
        assert_eq!(unescape(br"/plain"), b"/plain");
        // Not a complete escape: kept as it is.
        assert_eq!(unescape(br"/x\04"), br"/x\04");
    }

    #[test]
    fn lines_are_parsed_with_or_without_optional_fields() {
        let text = b"22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n\
            40 22 0:4 uts:[4026532247] /tmp/my\\040ns rw - nsfs nsfs rw\n\
            41 22 0:5 / /proc rw master:2 shared:3 - proc proc rw\n";
        let mounts = parse(text);
        assert_eq!(
            mounts,
            vec![
                Mount {
                    mount_point: "/".into(),
                    fstype: "ext4".into(),
                    source: "/dev/sda1".into(),
                    shared: true,
                    propagation: Propagation {
                        peer_group: Some(1),
                        ..Propagation::default()
                    },
                },
                Mount {
                    mount_point: "/tmp/my ns".into(),
                    fstype: "nsfs".into(),
                    source: "nsfs".into(),
                    shared: false,
                    propagation: Propagation::default(),
                },
                Mount {
                    mount_point: "/proc".into(),
                    fstype: "proc".into(),
                    source: "proc".into(),
                    shared: true,
                    propagation: Propagation {
                        peer_group: Some(3),
                        master: Some(2),
                        unbindable: false,
                    },
                },
            ]
        );
    }

    #[test]
    fn propagation_reads_as_the_optional_fields() {
        let text = b"1 0 0:1 / /a rw unbindable - tmpfs tmpfs rw\n\
            2 0 0:1 / /b rw master:7 - tmpfs tmpfs rw\n\
            3 0 0:1 / /c rw - tmpfs tmpfs rw\n";
        let shown: Vec<String> = parse(text)
            .iter()
            .map(|m| m.propagation.to_string())
            .collect();
        assert_eq!(shown, ["unbindable", "master:7", "private"]);
        assert!(parse(text)[2].propagation.is_private());
    }
}
