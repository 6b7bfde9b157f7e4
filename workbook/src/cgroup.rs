//! cgroups as a process sees them: which hierarchies are mounted, the lines
//! of `/proc/PID/cgroup`, a path as a cgroup namespace shows it, and the
//! root field of a cgroup mount in `/proc/self/mountinfo`.
//!
//! Two layouts are common (cgroups(7), "Cgroups version 1 and version 2"):
//! pure v2, one `cgroup2` mount on `/sys/fs/cgroup`, and `/proc/PID/cgroup`
//! has the one line `0::PATH`; hybrid, v1 hierarchies (`cgroup` mounts, one
//! per controller) with a v2 one beside them, often on
//! `/sys/fs/cgroup/unified`, and one line per hierarchy. Code here handles
//! both, and says which it found.
//!
//! Creating a cgroup is a change to the host: [`crate::cleanup::Cgroup`]
//! makes one named after its owner and removes it on every path.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Context, Result};

/// The cgroup hierarchies mounted in this mount namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Where the cgroup2 filesystem is mounted, and the mount's root field.
    pub v2: Option<(PathBuf, String)>,
    /// How many cgroup (v1) mounts there are.
    pub v1: usize,
}

impl Layout {
    /// Read from `/proc/self/mountinfo` (proc(5)): field 4 is the mount's
    /// root, field 5 its mount point, the first after `-` its type.
    pub fn current() -> Result<Layout> {
        let text = fs::read_to_string("/proc/self/mountinfo")
            .call(|| "read(fd of \"/proc/self/mountinfo\")".into())?;
        Ok(Layout::parse(&text))
    }

    pub fn parse(mountinfo: &str) -> Layout {
        let mut layout = Layout { v2: None, v1: 0 };
        for line in mountinfo.lines() {
            let fields: Vec<&str> = line.split(' ').collect();
            let Some(dash) = fields.iter().position(|f| *f == "-") else {
                continue;
            };
            match (fields.get(dash + 1), fields.get(3), fields.get(4)) {
                // The first one: a later mount of cgroup2 elsewhere is the
                // same hierarchy (cgroups(7)).
                (Some(&"cgroup2"), Some(root), Some(point))
                    if layout.v2.is_none() =>
                {
                    layout.v2 =
                        Some((PathBuf::from(unescape(point)), unescape(root)));
                }
                (Some(&"cgroup"), _, _) => layout.v1 += 1,
                _ => {}
            }
        }
        layout
    }

    /// `hybrid`, `pure v2`, `v1 only` or `none`.
    pub fn name(&self) -> &'static str {
        match (&self.v2, self.v1) {
            (Some(_), 0) => "pure v2",
            (Some(_), _) => "hybrid",
            (None, 0) => "none",
            (None, _) => "v1 only",
        }
    }

    /// One line for the story: what is mounted where.
    pub fn describe(&self) -> String {
        let v1 = self.v1;
        match &self.v2 {
            Some((point, _)) if v1 == 0 => {
                format!("pure v2: cgroup2 on \"{}\"", point.display())
            }
            Some((point, _)) => format!(
                "hybrid: cgroup2 on \"{}\", {v1} cgroup v1 hierarchies beside it",
                point.display()
            ),
            None if v1 > 0 => {
                format!("v1 only: {v1} cgroup v1 hierarchies, no cgroup2 mount")
            }
            None => "none: no cgroup filesystem is mounted".into(),
        }
    }
}

/// mountinfo escapes space, tab, newline and backslash as octal.
fn unescape(field: &str) -> String {
    field
        .replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
}

/// One line of `/proc/PID/cgroup` (cgroups(7), "/proc/pid/cgroup"):
/// `hierarchy-ID:controller-list:cgroup-path`. The v2 line is `0::PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub id: String,
    pub controllers: String,
    pub path: String,
}

impl Line {
    pub fn is_v2(&self) -> bool {
        self.id == "0" && self.controllers.is_empty()
    }
}

/// The lines of a `/proc/PID/cgroup` text.
pub fn parse(text: &str) -> Vec<Line> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ':');
            Some(Line {
                id: parts.next()?.to_owned(),
                controllers: parts.next()?.to_owned(),
                path: parts.next()?.to_owned(),
            })
        })
        .collect()
}

/// Read `/proc/self/cgroup` or `/proc/PID/cgroup` (`who` is `self` or a PID).
pub fn read(who: &str) -> Result<Vec<Line>> {
    let path = format!("/proc/{who}/cgroup");
    let text =
        fs::read_to_string(&path).call(|| format!("read(fd of \"{path}\")"))?;
    Ok(parse(&text))
}

/// The v2 line's path, if the v2 hierarchy is there.
pub fn v2_path(lines: &[Line]) -> Option<&str> {
    lines.iter().find(|l| l.is_v2()).map(|l| l.path.as_str())
}

/// How a process whose cgroup namespace has its root at `root` sees the
/// cgroup `path` (both as the initial namespace shows them). cgroup_namespaces(7):
/// the root itself is `/`, a descendant `/rest`, anything else goes up from
/// the root with `..` to the nearest common ancestor, by whole path
/// components: `/a/bc` seen from `/a/b` is `/../bc` (checked on 6.18).
fn relative(root: &str, path: &str) -> String {
    let parts = |p: &str| -> Vec<String> {
        p.split('/')
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let (root, path) = (parts(root), parts(path));
    let common = root.iter().zip(&path).take_while(|(a, b)| a == b).count();
    let mut seen: Vec<&str> = vec![".."; root.len() - common];
    seen.extend(path[common..].iter().map(String::as_str));
    format!("/{}", seen.join("/"))
}

/// The directory of cgroup `path` (as `/proc/self/cgroup` shows it from the
/// initial namespace) under the cgroup2 mount at `mount` whose root field is
/// `mount_root`: `None` if the mount does not show that cgroup.
pub fn dir_of(mount: &Path, mount_root: &str, path: &str) -> Option<PathBuf> {
    let below = relative(mount_root, path);
    match below.as_str() {
        "/" => Some(mount.to_owned()),
        up if up.starts_with("/..") => None,
        down => Some(mount.join(down.trim_start_matches('/'))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_are_by_component() {
        // Each seen on 6.18 through /proc/PID/cgroup after unshare -C.
        assert_eq!(relative("/p/a/b", "/p/a/b"), "/");
        assert_eq!(relative("/p/a/b", "/p/a/b/inner"), "/inner");
        assert_eq!(relative("/p/a/b", "/p/a/bc"), "/../bc");
        assert_eq!(relative("/p/a/b", "/p/x"), "/../../x");
        assert_eq!(relative("/p", "/"), "/..");
        assert_eq!(relative("/", "/x/y"), "/x/y");
        assert_eq!(relative("/process_api/9f", "/"), "/../..");
    }

    #[test]
    fn layouts_are_named() {
        let hybrid = "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n\
                      35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
        let layout = Layout::parse(hybrid);
        assert_eq!(layout.name(), "hybrid");
        assert_eq!(
            layout.v2,
            Some((PathBuf::from("/sys/fs/cgroup/unified"), "/".into()))
        );
        let pure = "30 23 0:26 / /sys/fs/cgroup rw shared:4 - cgroup2 cgroup2 rw\n";
        assert_eq!(Layout::parse(pure).name(), "pure v2");
        assert_eq!(Layout::parse("").name(), "none");
    }

    #[test]
    fn lines_parse_and_the_v2_one_is_found() {
        let lines = parse("4:memory:/process_api/9f\n0::/user.slice/a b\n");
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].controllers, "memory");
        assert_eq!(v2_path(&lines), Some("/user.slice/a b"));
        assert_eq!(
            dir_of(Path::new("/sys/fs/cgroup"), "/", "/a"),
            Some(PathBuf::from("/sys/fs/cgroup/a"))
        );
        assert_eq!(dir_of(Path::new("/m"), "/a", "/b"), None);
    }
}
