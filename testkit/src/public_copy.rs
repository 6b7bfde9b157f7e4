//! A copy of a binary that uid 65534 can run, whatever the checkout's
//! permissions: the checkout's folders may be closed to others.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::host::RunDir;

/// A copy of a binary (or a library to preload) in a fresh 0755 directory
/// under /tmp, which any user can reach and none but us can add to; removed
/// when dropped. The directory is a [`RunDir`]: one a SIGKILLed run left is
/// removed by a later run once its owner is gone.
#[derive(Debug)]
pub struct PublicCopy {
    // Field order is drop order: the path, then the directory holding it.
    pub(crate) path: PathBuf,
    _dir: RunDir,
}

impl PublicCopy {
    /// A copy of `binary`; panics (the test fails) if it cannot be made.
    pub fn of(binary: &Path) -> PublicCopy {
        PublicCopy::try_of(binary).unwrap_or_else(|why| panic!("{why}"))
    }

    pub fn try_of(binary: &Path) -> Result<PublicCopy, String> {
        let dir = RunDir::with_mode(0o755)?;
        let name = binary.file_name().ok_or("the binary has no file name")?;
        let path = dir.path().join(name);
        copy_executable(binary, &path)?;
        Ok(PublicCopy { path, _dir: dir })
    }

    /// The copy.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Copy `from` to `to`, mode 0755. cp(1) writes the copy, not this process:
/// a file this process held open for writing would be inherited by every
/// child another test thread forks, until it execs, and exec of the copy in
/// that window fails with ETXTBSY ("Text file busy").
pub fn copy_executable(from: &Path, to: &Path) -> Result<(), String> {
    let copied = Command::new("cp")
        .arg("--")
        .arg(from)
        .arg(to)
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("could not start cp: {e}"))?;
    if !copied.success() {
        return Err(format!("cp {} failed: {copied}", from.display()));
    }
    fs::set_permissions(to, fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("chmod 0755 {} failed: {e}", to.display()))
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::CommandExt;

    use super::*;
    use crate::run::NOBODY;

    /// The copy and its directory are 0755, uid 65534 can run it (when the
    /// tests are root and can switch to it), and both go when dropped.
    #[test]
    fn a_public_copy_runs_as_nobody_and_is_removed_when_dropped() {
        let copy = PublicCopy::of(Path::new("/bin/true"));
        let dir = copy.path().parent().unwrap().to_owned();
        for path in [copy.path(), dir.as_path()] {
            let mode = fs::metadata(path).unwrap().permissions().mode();
            assert_eq!(mode & 0o7777, 0o755, "{}", path.display());
        }
        if nix::unistd::geteuid().is_root() {
            let status = Command::new(copy.path())
                .uid(NOBODY)
                .gid(NOBODY)
                .current_dir("/")
                .status()
                .unwrap();
            assert!(status.success(), "{status}");
        }
        drop(copy);
        assert!(!dir.exists(), "{} was left", dir.display());
    }
}
