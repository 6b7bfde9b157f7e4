//! `progress` and `hint`: where the learner stands, and a nudge.
//!
//! `progress` runs `cargo test -p <exercise>` for every exercise, in book
//! order, exactly as the learner would, and keeps only the verdict: passed,
//! or not yet with the first failure's one sentence (the checks print it
//! under `---- case ----`), or the first compile error.

use std::path::Path;
use std::process::Command;

use super::catalog::Exercise;
use crate::Usage;

/// What `cargo test -p` said about one exercise.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Passed,
    NotYet(String),
}

pub fn progress(root: &Path, catalog: &[Exercise]) -> Result<bool, Usage> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    println!(
        "Exercises in book order; each is checked with `cargo test -p <package>`."
    );
    let mut chapter = "";
    let mut next = None;
    let mut passed = 0;
    for exercise in catalog {
        if exercise.chapter != chapter {
            chapter = &exercise.chapter;
            println!("\n{chapter}");
        }
        let output = Command::new(&cargo)
            .args([
                "test",
                "--quiet",
                "--color",
                "never",
                "-p",
                &exercise.package,
            ])
            .current_dir(root)
            .env("CARGO_TERM_COLOR", "never")
            .env_remove("RUST_BACKTRACE")
            .output();
        let verdict = match output {
            Ok(output) => verdict(
                output.status.success(),
                &String::from_utf8_lossy(&output.stdout),
                &String::from_utf8_lossy(&output.stderr),
            ),
            Err(err) => Verdict::NotYet(format!("could not run {cargo}: {err}")),
        };
        match &verdict {
            Verdict::Passed => {
                passed += 1;
                println!("  passed   {:<24} {}", exercise.package, exercise.title);
            }
            Verdict::NotYet(why) => {
                println!("  not yet  {:<24} {}", exercise.package, exercise.title);
                println!("           {why}");
                next.get_or_insert(exercise);
            }
        }
    }
    println!("\n{passed} of {} exercises pass.", catalog.len());
    match next {
        None => println!("All done: every exercise passes."),
        Some(exercise) => {
            println!(
                "Next: {} ({}), in exercises/{}/src/lib.rs",
                exercise.package, exercise.title, exercise.package
            );
            println!(
                "  check: cargo test -p {}    hint: cargo run -p workbook -- hint {}",
                exercise.package, exercise.id
            );
        }
    }
    // Not passing yet is no error: exit 0, so that `cargo run` adds no
    // "process didn't exit successfully" line under the list.
    Ok(true)
}

/// The verdict from cargo's exit status and output.
fn verdict(success: bool, stdout: &str, stderr: &str) -> Verdict {
    if success {
        return Verdict::Passed;
    }
    // The checks ran: the sentence under the first `---- case ----`.
    let mut lines = stdout.lines();
    if let Some(header) = lines.by_ref().find(|l| l.starts_with("---- ")) {
        let case = header.trim_matches(|c| c == '-' || c == ' ');
        let sentence = lines.next().unwrap_or("").trim();
        return Verdict::NotYet(format!("{case}: {sentence}"));
    }
    // It did not build: the first error and where it is.
    let mut lines = stderr.lines();
    if let Some(error) = lines.by_ref().find(|l| {
        l.starts_with("error") && !l.starts_with("error: could not compile")
    }) {
        let at = lines
            .take(3)
            .find_map(|l| l.trim().strip_prefix("--> "))
            .map(|at| format!(" ({at})"))
            .unwrap_or_default();
        return Verdict::NotYet(format!("does not compile: {error}{at}"));
    }
    let last = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    Verdict::NotYet(format!("cargo test failed: {}", last.trim()))
}

/// `hint ex03 [2]`.
pub fn hint(catalog: &[Exercise], id: &str, n: &str) -> Result<bool, Usage> {
    let exercise = catalog
        .iter()
        .find(|e| e.id == id || e.package == id || e.id == format!("ex{id:0>2}"))
        .ok_or_else(|| {
            let ids: Vec<&str> = catalog.iter().map(|e| e.id.as_str()).collect();
            Usage(format!("no exercise {id:?}; there are {}", ids.join(" ")))
        })?;
    let count = exercise.hints.len();
    let n: usize = match n.parse() {
        Ok(n) if (1..=count).contains(&n) => n,
        _ => {
            eprintln!("error: {} has hints 1 to {count}, not {n:?}", exercise.id);
            return Ok(false);
        }
    };
    println!(
        "{} ({}), hint {n} of {count}:",
        exercise.package, exercise.title
    );
    for line in wrap(&exercise.hints[n - 1], 76) {
        println!("  {line}");
    }
    if n < count {
        println!(
            "Still stuck? `cargo run -p workbook -- hint {} {}`",
            exercise.id,
            n + 1
        );
    } else {
        println!(
            "That was the last hint; the answer is in solutions/{}/src/lib.rs",
            exercise.package
        );
    }
    Ok(true)
}

/// Words into lines of at most `width` characters (a longer word stands alone).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line)
                if line.chars().count() + 1 + word.chars().count() <= width =>
            {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_owned()),
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_check_gives_its_sentence() {
        let stdout = "running 2 tests\ntest a (root) ... FAILED\n\nfailures:\n\n---- a (root) ----\n\
                      still todo!() at src/lib.rs:3: do it\noutput:\n    x\n";
        assert_eq!(
            verdict(false, stdout, "error: test failed"),
            Verdict::NotYet("a (root): still todo!() at src/lib.rs:3: do it".into())
        );
    }

    #[test]
    fn a_compile_error_gives_its_first_error() {
        let stderr = "   Compiling ex01 v0.1.0\nerror[E0425]: cannot find value `x` in this scope\n \
                      --> exercises/ex01/src/lib.rs:4:5\n  |\nerror: could not compile `ex01`\n";
        assert_eq!(
            verdict(false, "", stderr),
            Verdict::NotYet(
                "does not compile: error[E0425]: cannot find value `x` in this scope \
                 (exercises/ex01/src/lib.rs:4:5)"
                    .into()
            )
        );
        assert_eq!(verdict(true, "", ""), Verdict::Passed);
    }

    #[test]
    fn hints_wrap() {
        assert_eq!(wrap("aa bb cc", 5), ["aa bb", "cc"]);
        assert_eq!(wrap("abcdefgh x", 5), ["abcdefgh", "x"]);
    }
}
