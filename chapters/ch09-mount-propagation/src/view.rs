//! What /proc/PID/mountinfo shows below the stage: each mount's path
//! relative to it and its propagation (proc(5), the optional fields).

use std::path::Path;

use workbook::Result;
use workbook::mountinfo::{self, Propagation};

/// The mounts strictly below `stage` in `mountinfo` (a /proc file), sorted
/// by path: `("a/x", shared:7)`.
pub fn below(mountinfo: &str, stage: &Path) -> Result<Vec<(String, Propagation)>> {
    let mut mounts: Vec<(String, Propagation)> = mountinfo::read(mountinfo)?
        .into_iter()
        .filter_map(|m| {
            let relative = m.mount_point.strip_prefix(stage).ok()?;
            let relative = relative.to_str()?.to_owned();
            (!relative.is_empty()).then_some((relative, m.propagation))
        })
        .collect();
    mounts.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(mounts)
}

/// `a shared:7, b shared:7, c master:7`.
pub fn describe(mounts: &[(String, Propagation)]) -> String {
    let words: Vec<String> = mounts
        .iter()
        .map(|(path, p)| format!("{path} {p}"))
        .collect();
    match words.is_empty() {
        true => "nothing".into(),
        false => words.join(", "),
    }
}

/// What the calling process's mountinfo shows below `stage`, described.
pub fn mine(stage: &Path) -> Result<String> {
    Ok(describe(&below("/proc/self/mountinfo", stage)?))
}

/// Whether `path` (relative to the stage) is a mount point in `mounts`.
pub fn has(mounts: &[(String, Propagation)], path: &str) -> bool {
    mounts.iter().any(|(p, _)| p == path)
}

/// Like [`mine`], only the entries named in `paths`.
pub fn mine_of(stage: &Path, paths: &[&str]) -> Result<String> {
    let mut mounts = below("/proc/self/mountinfo", stage)?;
    mounts.retain(|(path, _)| paths.contains(&path.as_str()));
    Ok(describe(&mounts))
}
