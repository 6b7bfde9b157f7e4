//! What the story prints about cgroups: a process's path, the cgroup2
//! mount's root field.

use workbook::Result;
use workbook::cgroup::{self, Layout};

/// The path of the calling process's cgroup: the v2 line, or the first.
pub fn own_path() -> Result<String> {
    path_of("self")
}

/// `/proc/WHO/cgroup`'s v2 path, or, with no v2 hierarchy, the first line's.
pub fn path_of(who: &str) -> Result<String> {
    let lines = cgroup::read(who)?;
    let path = cgroup::v2_path(&lines)
        .or_else(|| lines.first().map(|l| l.path.as_str()))
        .unwrap_or_default();
    Ok(path.to_owned())
}

/// `mountinfo: "/sys/fs/cgroup" has root "/"`, for the cgroup2 mount.
pub fn mount_root_text(layout: &Layout, verb: &str) -> String {
    match &layout.v2 {
        Some((mount, root)) => {
            format!("mountinfo: \"{}\" {verb} root \"{root}\"", mount.display())
        }
        None => "mountinfo: no cgroup2 mount".into(),
    }
}
