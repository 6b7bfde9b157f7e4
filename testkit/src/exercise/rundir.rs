//! The run's own directory, a directory per case in it, and the host check
//! that judges only what this run could have done.
//!
//! The runner makes a 0755 `/tmp/workbook-run.<owner>.XXXXXX` (testkit's
//! `RunDir`, see `run_dir`) and, for each case, a directory in it owned by
//! the case's uid, passed as `TMPDIR` and `WORKBOOK_CASE_DIR`. After the case (every process of it
//! killed and reaped), it looks at three things only, so that another run,
//! another test or another user on the machine cannot fail this one:
//! - the hostname of its own UTS namespace (the host's): changed, it is set
//!   back;
//! - mounts on or under the run's directory in its own mount namespace: one
//!   there is detached (umount2(2), MNT_DETACH), before any removal, so that
//!   removing the directory never reaches into a mounted filesystem;
//! - entries of the run's directory: only the case's directory, which is
//!   then removed, may be there.
//!
//! What it found and undid is said first in the case's failure.

use std::fs;
use std::os::unix::fs::{DirBuilderExt, chown};
use std::path::{Path, PathBuf};

use crate::run_dir::{self, remove_unmounted};

#[derive(Debug)]
pub(super) struct RunDir {
    /// 0755: uid 65534 reaches its case's directory, and adds nothing here.
    dir: run_dir::RunDir,
    cases: usize,
}

/// What the host was like before a case.
#[derive(Debug)]
pub(super) struct Before {
    hostname: String,
}

impl RunDir {
    pub(super) fn new() -> Result<RunDir, String> {
        Ok(RunDir {
            dir: run_dir::RunDir::with_mode(0o755)?,
            cases: 0,
        })
    }

    /// A fresh directory for the next case, owned by `owner` (uid, gid) if
    /// given; 0700, since only the case and root need it.
    pub(super) fn case_dir(
        &mut self,
        owner: Option<(u32, u32)>,
    ) -> Result<PathBuf, String> {
        self.cases += 1;
        let path = self.dir.path().join(format!("case-{}", self.cases));
        fs::DirBuilder::new()
            .mode(0o700)
            .create(&path)
            .map_err(|e| format!("mkdir {} failed: {e}", path.display()))?;
        if let Some((uid, gid)) = owner {
            chown(&path, Some(uid), Some(gid))
                .map_err(|e| format!("chown {} failed: {e}", path.display()))?;
        }
        Ok(path)
    }

    pub(super) fn before(&self) -> Before {
        Before {
            hostname: hostname(),
        }
    }

    /// Put the host back as it was `before` the case, remove the case's
    /// directory, and say what was wrong: each sentence names what the case
    /// did and what the harness undid.
    pub(super) fn after(&self, before: &Before, case_dir: &Path) -> Vec<String> {
        let mut found = Vec::new();
        found.extend(restore_hostname(&before.hostname));
        found.extend(detach_mounts(self.dir.path()));
        if let Err(why) = remove_unmounted(case_dir) {
            found.push(why);
        }
        found.extend(stray_entries(self.dir.path()));
        found
    }
}

fn hostname() -> String {
    nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn restore_hostname(was: &str) -> Option<String> {
    let now = hostname();
    if now == was {
        return None;
    }
    let undone = match nix::unistd::sethostname(was) {
        Ok(()) => format!("the harness set it back to {was:?}"),
        Err(errno) => {
            format!("setting it back failed ({errno}): run `hostname {was}` as root")
        }
    };
    Some(format!(
        "the host's hostname was changed from {was:?} to {now:?}: sethostname(2) was called \
         outside a new UTS namespace; {undone}"
    ))
}

/// Detach every mount under `dir` ([`run_dir::detach_mounts`]), each said.
fn detach_mounts(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for (mount, done) in run_dir::detach_mounts(dir) {
        let at = mount.mount_point.display();
        let undone = match done {
            Ok(()) => "the harness detached it".to_owned(),
            Err(errno) => format!("detaching it failed ({errno})"),
        };
        found.push(format!(
            "a mount reached the host: {} on {at}, in the case's directory (mount(2) \
             outside a new mount namespace, or before / was made private); {undone}",
            mount.fstype
        ));
    }
    found
}

/// After the case's directory is gone, the run's directory holds nothing
/// of the case's: anything there was put there by the case.
fn stray_entries(dir: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let undone = match remove_unmounted(&path) {
            Ok(()) => "the harness removed it".to_owned(),
            Err(why) => why,
        };
        found.push(format!(
            "the case left {} in the run's own directory, outside its own; {undone}",
            path.display()
        ));
    }
    found
}
