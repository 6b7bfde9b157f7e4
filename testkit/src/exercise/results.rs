//! The results file: one line per case for tools, so that nothing has to
//! scrape the text meant for people.
//!
//! With `WORKBOOK_RESULTS=/path`, each case appends
//! `exercise<TAB>case<TAB>user<TAB>pass|fail|skip<TAB>sentence`: user is
//! `root`, `unprivileged` or `once`, the sentence is the first line of the
//! reason (empty for a pass). Each line is one write(2) to a file opened with
//! O_APPEND, so runs appending at once do not mix their lines.

use std::fs::OpenOptions;
use std::io::Write;

/// The environment variable that names the file.
pub(super) const ENV: &str = "WORKBOOK_RESULTS";

pub(super) fn append(
    exercise: &str,
    case: &str,
    user: &str,
    verdict: &str,
    sentence: &str,
) {
    let Some(path) = std::env::var_os(ENV) else {
        return;
    };
    let field = |s: &str| s.replace(['\t', '\n', '\r'], " ");
    let sentence = sentence.lines().next().unwrap_or("");
    let line = format!(
        "{}\t{}\t{user}\t{verdict}\t{}\n",
        field(exercise),
        field(case),
        field(sentence)
    );
    let written = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(line.as_bytes()));
    if let Err(err) = written {
        // Not the case's failure; but a tool waiting for the line must not
        // wait silently.
        let _ = writeln!(
            std::io::stderr(),
            "cannot append to {ENV}={}: {err}",
            path.to_string_lossy()
        );
    }
}
