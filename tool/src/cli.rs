//! What every command shares: the usage error, where the workspace is, and
//! the one question a command asks before it destroys work.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// A command line that is wrong: exit 2 with the usage, as the chapters do.
#[derive(Debug, PartialEq, Eq)]
pub struct Usage(pub String);

/// What a command returns: an exit code (0 done, 1 refused or failed), or a
/// usage error (2).
pub type Outcome = Result<ExitCode, Usage>;

/// The workspace: `WORKBOOK_ROOT` if set (the tool's own tests point it at a
/// fixture), else the parent of this package's directory.
pub fn root() -> PathBuf {
    if let Some(root) = std::env::var_os("WORKBOOK_ROOT") {
        return PathBuf::from(root);
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// Cargo's target directory: `CARGO_TARGET_DIR`, else `<root>/target`.
pub fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

/// The tool's own files under target/ (saved verdicts, results files).
pub fn state_dir(root: &Path) -> PathBuf {
    target_dir(root).join("workbook")
}

/// `cargo`, as cargo itself names it to the programs it runs.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Ask `question [y/N]` on stdin; anything but `y` or `yes` is no. With no
/// terminal, say that `--yes` is the way and answer no.
pub fn confirm(question: &str, yes_flag: &str) -> bool {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        eprintln!("{question} Not asked: stdin is not a terminal; add {yes_flag}.");
        return false;
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    if stdin.lock().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}
