//! `hint EXERCISE [N]`: the hints of one exercise, one at a time.

use std::process::ExitCode;

use crate::catalog::{self, Exercise};
use crate::cli::{Outcome, Usage};

pub const USAGE: &str = "\
Usage: cargo workbook hint EXERCISE [N]

Prints the N-th hint (default: the first) of EXERCISE, e.g. `hint ex03` or
`hint ex03 2`. EXERCISE is its id (ex03), number (3) or package.
";

/// `hint [EXERCISE [N]]`; a missing exercise, an unknown one or an N out of
/// range is a usage error (exit 2).
pub fn hint(catalog: &[Exercise], args: &[&str]) -> Outcome {
    let (name, n) = match args {
        [] => return Err(Usage("hint needs an exercise, e.g. `hint ex03`".into())),
        [name] => (*name, "1"),
        [name, n] => (*name, *n),
        [_, _, extra, ..] => {
            return Err(Usage(format!("unexpected argument {extra:?}")));
        }
    };
    let exercise = catalog::find(catalog, name).map_err(Usage)?;
    let count = exercise.hints.len();
    let n: usize = match n.parse() {
        Ok(n) if (1..=count).contains(&n) => n,
        _ => {
            return Err(Usage(format!(
                "{} has hints 1 to {count}, not {n:?}",
                exercise.id
            )));
        }
    };
    workbook::say!(
        "{} ({}), hint {n} of {count}:",
        exercise.package,
        exercise.title
    );
    for line in wrap(&exercise.hints[n - 1], 76) {
        workbook::say!("  {line}");
    }
    if n < count {
        workbook::say!(
            "Still stuck? `cargo workbook hint {} {}`",
            exercise.id,
            n + 1
        );
    } else {
        workbook::say!(
            "That was the last hint. The check, not the solution, is the teacher; \
             `cargo workbook solution {}` shows the answer once it passes.",
            exercise.id
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Words into lines of at most `width` characters (a longer word stands
/// alone). A `code span` is never split, so what a hint shows can be pasted
/// as it is.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in words(text) {
        match lines.last_mut() {
            Some(line)
                if line.chars().count() + 1 + word.chars().count() <= width =>
            {
                line.push(' ');
                line.push_str(&word);
            }
            _ => lines.push(word),
        }
    }
    lines
}

/// The words of `text`, with each `code span` (between backquotes) kept
/// whole as one word.
pub fn words(text: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut open = false;
    for word in text.split_whitespace() {
        match (open, found.last_mut()) {
            (true, Some(last)) => {
                last.push(' ');
                last.push_str(word);
            }
            _ => found.push(word.to_owned()),
        }
        if word.matches('`').count() % 2 == 1 {
            open = !open;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_wrap() {
        assert_eq!(wrap("aa bb cc", 5), ["aa bb", "cc"]);
        assert_eq!(wrap("abcdefgh x", 5), ["abcdefgh", "x"]);
        // A code span stays on one line, however long.
        assert_eq!(
            wrap("see `setns(fd, CLONE_NEWUTS)?` now", 10),
            ["see", "`setns(fd, CLONE_NEWUTS)?`", "now"]
        );
    }
}
