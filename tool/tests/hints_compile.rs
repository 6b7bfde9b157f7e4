//! Every code fragment in a hint is code the learner can paste where it
//! belongs: it is in the exercise's solution, as written.
//!
//! The rule, for each hint of `exercises/exercises.toml`:
//!
//! - Code is marked with backticks; prose stays prose.
//! - A backticked span with `(`, `;`, `::`, `{` or `=` in it is a fragment.
//!   It must appear in the code of the solution (`solutions/<package>/src/`,
//!   comment lines left out), compared with all whitespace removed and a
//!   comma before a closing bracket dropped (rustfmt breaks a long call over
//!   lines and ends it with one). The stub keeps the solution's `use` lines,
//!   so a fragment pasted there finds every name it needs. A placeholder
//!   (`..`, `...`) cannot be pasted, so it fails: write the real argument.
//! - Any other backticked span (`before`, `CLONE_NEWUTS`, `?`, `&mut [u8]`)
//!   is a name, not checked.
//! - Outside backticks there is no code: no `::`, `{`, `}`, and no call
//!   `name(...)` except a man page `name(N)`. A fragment cannot escape the
//!   check by losing its backticks.
//!
//! A failure names the exercise, the hint and the fragment.

use std::path::{Path, PathBuf};

use workbook_tool::catalog;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// What one hint breaks of the rule above, given its solution's code.
fn problems(hint: &str, code: &str) -> Vec<String> {
    let code = normalise(code);
    let mut found = Vec::new();
    let parts: Vec<&str> = hint.split('`').collect();
    if parts.len() % 2 == 0 {
        found.push("a backtick is not closed".to_string());
    }
    for (i, part) in parts.iter().enumerate() {
        if i % 2 == 0 {
            if let Some(why) = unmarked_code(part) {
                found.push(format!("code outside backticks ({why}) in {part:?}"));
            }
        } else if is_fragment(part) && !code.contains(&normalise(part)) {
            found.push(format!("`{part}` is not in the solution"));
        }
    }
    found
}

fn is_fragment(span: &str) -> bool {
    ["(", ";", "::", "{", "="].iter().any(|c| span.contains(c))
}

/// Why `prose` looks like code, if it does.
fn unmarked_code(prose: &str) -> Option<String> {
    for sign in ["::", "{", "}"] {
        if prose.contains(sign) {
            return Some(format!("{sign:?}"));
        }
    }
    for (at, _) in prose.match_indices('(') {
        let before = prose[..at].chars().next_back();
        let is_call =
            before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '!');
        if !is_call {
            continue;
        }
        let inside = prose[at + 1..].split(')').next().unwrap_or("");
        let man_page =
            !inside.is_empty() && inside.chars().all(|c| c.is_ascii_digit());
        if !man_page {
            let name = prose[..at]
                .rsplit(|c: char| !(c.is_alphanumeric() || "_!.".contains(c)))
                .next()
                .unwrap_or("");
            return Some(format!("a call {name}({inside})"));
        }
    }
    None
}

/// `text` without whitespace, and without a comma just before `)`, `]` or
/// `}`.
fn normalise(text: &str) -> String {
    let squeezed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let mut out = String::with_capacity(squeezed.len());
    let mut chars = squeezed.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ',' && chars.peek().is_some_and(|n| ")]}".contains(*n)) {
            continue;
        }
        out.push(c);
    }
    out
}

/// The code of every `.rs` file under `dir`, comment lines left out (a
/// fragment must be code there, not prose about code).
fn code_under(dir: &Path) -> Result<String, String> {
    let mut code = String::new();
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if path.is_dir() {
            code.push_str(&code_under(&path)?);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            code.push_str(&without_comment_lines(&text));
        }
    }
    Ok(code)
}

fn without_comment_lines(text: &str) -> String {
    let code = text.lines().filter(|l| !l.trim_start().starts_with("//"));
    code.map(|line| format!("{line}\n")).collect()
}

#[test]
fn every_fragment_in_a_hint_is_in_the_solution() {
    let root = repo();
    let mut failures = Vec::new();
    let exercises = catalog::load(&root).unwrap_or_else(|why| {
        failures.push(why);
        Vec::new()
    });
    if exercises.is_empty() && failures.is_empty() {
        failures.push(format!("no exercises in {}", catalog::FILE));
    }
    for exercise in &exercises {
        let dir = root.join("solutions").join(&exercise.package).join("src");
        let code = match code_under(&dir) {
            Ok(code) => code,
            Err(why) => {
                failures.push(format!("{}: {why}", exercise.id));
                continue;
            }
        };
        for (n, hint) in exercise.hints.iter().enumerate() {
            for problem in problems(hint, &code) {
                failures.push(format!("{} hint{}: {problem}", exercise.id, n + 1));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "hints a learner cannot paste ({} problems; rule in tool/tests/hints_compile.rs):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The rule itself catches what it is for.
#[test]
fn the_rule_catches_placeholders_unmarked_code_and_other_code() {
    let code = "    let fd = open(\n        path.as_str(),\n        OFlag::O_RDONLY,\n    )\n    .call(|| format!(\"open({path})\"))?;\n    // setns(&fd, CloneFlags::CLONE_NEWUTS)?;\n";
    let code = without_comment_lines(code);
    let ok = |hint: &str| problems(hint, &code).is_empty();
    assert!(ok(
        "Open it: `let fd = open(path.as_str(), OFlag::O_RDONLY)`."
    ));
    assert!(ok("`.call(|| format!(\"open({path})\"))?`, see open(2)."));
    assert!(ok("a name: `CLONE_NEWUTS`, `&mut [u8]`, `?`"));
    assert!(!ok("`open(path.as_str(), ..)`"), "a placeholder");
    assert!(!ok("`.call(|| ...)`"), "a placeholder");
    assert!(
        !ok("`setns(&fd, CloneFlags::CLONE_NEWUTS)?`"),
        "only in a comment"
    );
    assert!(!ok("then nix::sched::setns on it"), "unmarked ::");
    assert!(!ok("then setns(&fd, flags)"), "an unmarked call");
    assert!(!ok("Ok(Identity { dev })"), "an unmarked call and braces");
    assert!(!ok("`open(path"), "an open backtick");
}

/// The workspace builds without incremental compilation, except the
/// exercises, which the learner edits and checks again and again: each has
/// its own `[profile.dev.package.<package>] incremental = true` in the root
/// Cargo.toml. A new exercise without one would still work, only slower to
/// check after each edit; this says so at once.
#[test]
fn every_exercise_keeps_incremental_compilation() {
    let root = repo();
    let manifest =
        std::fs::read_to_string(root.join("Cargo.toml")).unwrap_or_default();
    let exercises = catalog::load(&root).unwrap_or_default();
    assert!(!exercises.is_empty(), "no exercises in {}", catalog::FILE);
    let missing: Vec<_> = exercises
        .iter()
        .filter(|e| {
            let table =
                format!("[profile.dev.package.{}]\nincremental = true", e.package);
            !manifest.contains(&table)
        })
        .map(|e| e.package.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "add to the root Cargo.toml, for each: [profile.dev.package.<package>] \
         incremental = true\nmissing: {}",
        missing.join(", ")
    );
}
