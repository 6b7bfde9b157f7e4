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

const MOUNTINFO: &str = "/proc/self/mountinfo";

/// One line of mountinfo, the parts the examples read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub mount_point: PathBuf,
    pub fstype: String,
}

/// The mount a lookup of `path` lands on, if `path` is a mount point. `path`
/// must be canonical (absolute, no symbolic links), as mountinfo's are.
pub fn top_mount_at(path: &Path) -> Result<Option<Mount>> {
    let text = std::fs::read(MOUNTINFO).call(|| format!("read({MOUNTINFO})"))?;
    Ok(parse(&text)
        .into_iter()
        .rfind(|mount| mount.mount_point == path))
}

fn parse(text: &[u8]) -> Vec<Mount> {
    text.split(|&b| b == b'\n')
        .filter_map(|line| {
            let fields: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
            let mount_point = fields.get(4)?;
            // Optional fields (`shared:1`...) vary in number; `-` ends them.
            let dash = fields.iter().skip(6).position(|f| *f == b"-")? + 6;
            let fstype = fields.get(dash + 1)?;
            Some(Mount {
                mount_point: PathBuf::from(OsString::from_vec(unescape(
                    mount_point,
                ))),
                fstype: String::from_utf8_lossy(fstype).into_owned(),
            })
        })
        .collect()
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
                    fstype: "ext4".into()
                },
                Mount {
                    mount_point: "/tmp/my ns".into(),
                    fstype: "nsfs".into()
                },
                Mount {
                    mount_point: "/proc".into(),
                    fstype: "proc".into()
                },
            ]
        );
    }
}
