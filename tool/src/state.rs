//! Saved verdicts: `target/workbook/verdicts.tsv`, one line per exercise,
//!
//! ```text
//! package<TAB>key<TAB>passed|not-yet<TAB>note or sentence
//! ```
//!
//! The key is a hash of everything that decides the verdict: the exercise's
//! files, the harness's and the workbook's sources (`testkit/`,
//! `workbook/`), the lock file, the kernel release and the uid. An exercise
//! whose key is unchanged is not run again. The file lives under target/,
//! never in the sources, and `cargo clean` forgets it.

use std::collections::BTreeMap;
use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use crate::cargo::Verdict;
use crate::catalog::Exercise;
use crate::cli;

const HEADER: &str = "# workbook verdicts v1";

/// The verdicts saved by earlier runs.
#[derive(Debug, Default)]
pub struct Saved {
    path: PathBuf,
    /// package → (key, verdict)
    verdicts: BTreeMap<String, (String, Verdict)>,
}

impl Saved {
    /// What `target/workbook/verdicts.tsv` holds; nothing if it is missing
    /// or from another version.
    pub fn load(root: &Path) -> Saved {
        let path = cli::state_dir(root).join("verdicts.tsv");
        let text = fs::read_to_string(&path).unwrap_or_default();
        let mut lines = text.lines();
        let mut verdicts = BTreeMap::new();
        if lines.next() == Some(HEADER) {
            for line in lines {
                let mut f = line.splitn(4, '\t');
                let (Some(package), Some(key), Some(kind), Some(text)) =
                    (f.next(), f.next(), f.next(), f.next())
                else {
                    continue;
                };
                let verdict = match kind {
                    "passed" => Verdict::Passed { note: text.into() },
                    "not-yet" => Verdict::NotYet(text.into()),
                    _ => continue,
                };
                verdicts.insert(package.to_owned(), (key.to_owned(), verdict));
            }
        }
        Saved { path, verdicts }
    }

    /// The saved verdict, if it was reached with this key.
    pub fn get(&self, package: &str, key: &str) -> Option<&Verdict> {
        self.verdicts
            .get(package)
            .filter(|(saved, _)| saved == key)
            .map(|(_, verdict)| verdict)
    }

    pub fn put(&mut self, package: &str, key: String, verdict: Verdict) {
        self.verdicts.insert(package.to_owned(), (key, verdict));
    }

    /// Write the file (through a temporary file and rename, so a killed
    /// run leaves the old file or the new one, never half of one).
    pub fn save(&self) -> std::io::Result<()> {
        let mut text = format!("{HEADER}\n");
        for (package, (key, verdict)) in &self.verdicts {
            let (kind, words) = match verdict {
                Verdict::Passed { note } => ("passed", note),
                // Never saved (see Verdict::decided); written as what it shows.
                Verdict::NotYet(why) | Verdict::Unknown(why) => ("not-yet", why),
            };
            let words = words.replace(['\t', '\n'], " ");
            text.push_str(&format!("{package}\t{key}\t{kind}\t{words}\n"));
        }
        if let Some(dir) = self.path.parent() {
            fs::create_dir_all(dir)?;
        }
        let partial = self.path.with_extension("tsv.partial");
        fs::write(&partial, text)?;
        fs::rename(&partial, &self.path)
    }
}

/// What every exercise's verdict depends on: the harness's and the
/// workbook's sources, the manifests and lock file, the kernel release and
/// the uid. Computed once per run.
pub fn shared_key(root: &Path) -> u64 {
    let mut hasher = DefaultHasher::new();
    for dir in ["testkit/src", "workbook/src"] {
        hash_tree(root, &root.join(dir), &mut hasher);
    }
    for file in [
        "Cargo.toml",
        "Cargo.lock",
        "testkit/Cargo.toml",
        "workbook/Cargo.toml",
    ] {
        hash_file(root, &root.join(file), &mut hasher);
    }
    if let Ok(uts) = nix::sys::utsname::uname() {
        uts.release().hash(&mut hasher);
    }
    nix::unistd::geteuid().as_raw().hash(&mut hasher);
    hasher.finish()
}

/// The key of one exercise: its own files (sources, checks, manifest) on
/// top of the shared key.
pub fn key(root: &Path, exercise: &Exercise, shared: u64) -> String {
    let mut hasher = DefaultHasher::new();
    shared.hash(&mut hasher);
    hash_tree(
        root,
        &root.join("exercises").join(&exercise.package),
        &mut hasher,
    );
    format!("{:016x}", hasher.finish())
}

/// Every file under `dir` (but `target/`), by path and contents, in order.
fn hash_tree(root: &Path, dir: &Path, hasher: &mut DefaultHasher) {
    let Ok(entries) = fs::read_dir(dir) else {
        dir.hash(hasher);
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        if path.file_name().is_some_and(|n| n == "target") {
            continue;
        }
        if path.is_dir() {
            hash_tree(root, &path, hasher);
        } else {
            hash_file(root, &path, hasher);
        }
    }
}

fn hash_file(root: &Path, path: &Path, hasher: &mut DefaultHasher) {
    path.strip_prefix(root).unwrap_or(path).hash(hasher);
    fs::read(path).ok().hash(hasher);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_survive_a_save_and_load() {
        let dir = std::env::temp_dir()
            .join(format!("workbook-tool-state.{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let mut saved = Saved::load(&dir);
        assert_eq!(saved.get("ex01-a", "k1"), None);
        saved.put("ex01-a", "k1".into(), Verdict::Passed { note: "n".into() });
        saved.put("ex02-b", "k2".into(), Verdict::NotYet("a\tb".into()));
        let written = saved.save();
        let again = Saved::load(&dir);
        let _ = fs::remove_dir_all(&dir);
        assert!(written.is_ok(), "{written:?}");
        assert_eq!(
            again.get("ex01-a", "k1"),
            Some(&Verdict::Passed { note: "n".into() })
        );
        assert_eq!(
            again.get("ex01-a", "k2"),
            None,
            "another key is another verdict"
        );
        assert_eq!(
            again.get("ex02-b", "k2"),
            Some(&Verdict::NotYet("a b".into()))
        );
    }
}
