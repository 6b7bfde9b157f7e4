//! `workbook dev generate [--check] [--force]`, for authors: each exercise
//! is made from its solution (one source of truth).
//!
//! In a solution's source, the lines from `// BEGIN SOLUTION` to
//! `// END SOLUTION` (both included) are the answer; the learner's stub has
//! none of them. A line `// STUB: code` is a comment in the solution and
//! `code` (at the same indentation) in the stub: the `todo!("...")` that
//! stands for the answer, or an attribute only the stub needs. Everything
//! else is the same in both.
//!
//! From `solutions/<package>/` the generator writes:
//! - `exercises/<package>/src/**.rs`: the stubs;
//! - `exercises/<package>/Cargo.toml`: the solution's, renamed;
//! - `solutions/<package>/tests/<id>.rs`: a few lines that run the
//!   exercise's own checks (`exercises/<package>/tests/<id>.rs`, written by
//!   hand) against the solution.
//!
//! To add an exercise: copy a pair of crates (`solutions/exNN-*` and
//! `exercises/exNN-*`, each with its Cargo.toml and `src/lib.rs`, since
//! cargo refuses a workspace with a member it cannot load), rename them, list
//! the new one in `exercises/exercises.toml`, write the solution and the
//! checks, then `generate`.
//!
//! The two crates have different library names (`ex03_unshare_uts` and
//! `ex03_unshare_uts_solution`): with one name, `cargo build --workspace`
//! warns that both write `target/debug/libex03_unshare_uts.rlib`. The
//! solution's test file renames its library to the exercise's, so one file
//! of checks serves both.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::catalog::{self, Exercise};
use crate::cli::Outcome;

const BEGIN: &str = "// BEGIN SOLUTION";
const END: &str = "// END SOLUTION";
const STUB: &str = "// STUB: ";
const SOLVED_SUFFIX: &str = " The solution.";

/// The stub of one solution source file; errors name `file:line`.
pub fn stub(source: &str, file: &str) -> Result<String, String> {
    let mut out = String::with_capacity(source.len());
    let mut open_at = None;
    let mut just_closed = false;
    for (number, line) in source.lines().enumerate() {
        let number = number + 1;
        let text = line.trim_start();
        let indent = &line[..line.len() - text.len()];
        // A block dropped between two blank lines leaves one, not two (as
        // rustfmt would have it).
        let after_block = std::mem::take(&mut just_closed);
        if after_block
            && text.is_empty()
            && (out.is_empty() || out.ends_with("\n\n"))
        {
            continue;
        }
        if text.starts_with(BEGIN) {
            if let Some(at) = open_at {
                return Err(format!(
                    "{file}:{number}: {BEGIN} inside the one opened at line {at}"
                ));
            }
            open_at = Some(number);
        } else if text.starts_with(END) {
            if open_at.take().is_none() {
                return Err(format!("{file}:{number}: {END} without {BEGIN}"));
            }
            just_closed = true;
        } else if open_at.is_some() {
            if text.starts_with(STUB) {
                return Err(format!(
                    "{file}:{number}: a {STUB}line inside a solution block"
                ));
            }
        } else if let Some(code) = text.strip_prefix(STUB) {
            out.push_str(indent);
            out.push_str(code);
            out.push('\n');
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    if let Some(at) = open_at {
        return Err(format!("{file}:{at}: {BEGIN} is never closed"));
    }
    // A block dropped at the end leaves no blank line behind it.
    while out.ends_with("\n\n") {
        out.pop();
    }
    Ok(out)
}

/// The exercise's Cargo.toml: the solution's, with the exercise's names.
fn manifest(
    solution: &str,
    exercise: &Exercise,
    file: &str,
) -> Result<String, String> {
    let package = &exercise.package;
    let lib = exercise.lib_name();
    let replacements = [
        (
            format!("name = \"{package}-solution\""),
            format!("name = \"{package}\""),
        ),
        (
            format!("name = \"{lib}_solution\""),
            format!("name = \"{lib}\""),
        ),
    ];
    let mut text = solution.to_owned();
    for (from, to) in &replacements {
        if text.matches(from.as_str()).count() != 1 {
            return Err(format!("{file}: expected the line {from} once"));
        }
        text = text.replacen(from.as_str(), to, 1);
    }
    let description = text
        .lines()
        .find(|l| l.starts_with("description = "))
        .ok_or_else(|| format!("{file}: no description"))?;
    let quoted_suffix = format!("{SOLVED_SUFFIX}\"");
    let Some(plain) = description.strip_suffix(quoted_suffix.as_str()) else {
        return Err(format!(
            "{file}: the description must end with \"{SOLVED_SUFFIX}\""
        ));
    };
    let plain = format!("{plain}\"");
    Ok(text.replacen(description, &plain, 1))
}

/// The solution's test target: the exercise's checks, on the solution.
fn shim(exercise: &Exercise) -> String {
    let (id, package, lib) = (&exercise.id, &exercise.package, exercise.lib_name());
    format!(
        "//! The checks of exercise {id}, run against its solution. They are the same\n\
         //! file the learner runs: exercises/{package}/tests/{id}.rs.\n\
         //! (Generated by `cargo workbook dev generate`.)\n\
         \n\
         extern crate {lib}_solution as {lib};\n\
         \n\
         #[path = \"../../../exercises/{package}/tests/{id}.rs\"]\n\
         mod checks;\n\
         \n\
         fn main() -> std::process::ExitCode {{\n    checks::main()\n}}\n"
    )
}

/// One file the generator owns: where, and what it must contain.
struct Output {
    path: PathBuf,
    text: String,
    /// A learner's file: never overwrite it unless it is the stub already
    /// or `--force` says so.
    learner: bool,
}

/// Every file made from the solutions, or the errors that stop it.
fn outputs(root: &Path, catalog: &[Exercise]) -> Result<Vec<Output>, Vec<String>> {
    let mut outputs = Vec::new();
    let mut errors = Vec::new();
    for exercise in catalog {
        let solution = root.join("solutions").join(&exercise.package);
        let learner = root.join("exercises").join(&exercise.package);
        let checks = learner.join("tests").join(format!("{}.rs", exercise.id));
        if !checks.is_file() {
            errors.push(format!(
                "{}: missing (the exercise's checks)",
                rel(root, &checks)
            ));
        }
        let cargo = solution.join("Cargo.toml");
        match fs::read_to_string(&cargo) {
            Ok(text) => match manifest(&text, exercise, &rel(root, &cargo)) {
                Ok(text) => outputs.push(Output {
                    path: learner.join("Cargo.toml"),
                    text,
                    learner: false,
                }),
                Err(why) => errors.push(why),
            },
            Err(err) => errors.push(format!("{}: {err}", rel(root, &cargo))),
        }
        outputs.push(Output {
            path: solution.join("tests").join(format!("{}.rs", exercise.id)),
            text: shim(exercise),
            learner: false,
        });
        let mut sources = Vec::new();
        if let Err(err) = rust_files(&solution.join("src"), &mut sources) {
            errors.push(format!("{}/src: {err}", rel(root, &solution)));
        }
        for source in sources {
            let Ok(relative) = source.strip_prefix(&solution) else {
                continue;
            };
            let name = rel(root, &source);
            match fs::read_to_string(&source).map_err(|e| format!("{name}: {e}")) {
                Ok(text) => match stub(&text, &name) {
                    Ok(text) => outputs.push(Output {
                        path: learner.join(relative),
                        text,
                        learner: true,
                    }),
                    Err(why) => errors.push(why),
                },
                Err(why) => errors.push(why),
            }
        }
        // A stub whose solution file is gone would live on unnoticed.
        let mut stubs = Vec::new();
        let _ = rust_files(&learner.join("src"), &mut stubs);
        for stub in stubs {
            let made = outputs.iter().any(|o| o.path == stub);
            if !made {
                errors.push(format!(
                    "{}: no solution file makes it",
                    rel(root, &stub)
                ));
            }
        }
    }
    // Every crate in exercises/ and solutions/ must be in the catalog.
    for dir in ["exercises", "solutions"] {
        let Ok(entries) = fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().is_dir() && !catalog.iter().any(|e| e.package == name) {
                errors
                    .push(format!("{dir}/{name}: not listed in {}", catalog::FILE));
            }
        }
    }
    match errors.is_empty() {
        true => Ok(outputs),
        false => Err(errors),
    }
}

/// The learner's files of one exercise and their stubs: what `reset` puts
/// back. The errors are the generator's (a solution that does not parse).
pub fn stubs(
    root: &Path,
    catalog: &[Exercise],
    exercise: &Exercise,
) -> Result<Vec<(PathBuf, String)>, Vec<String>> {
    let learner = root.join("exercises").join(&exercise.package);
    Ok(outputs(root, catalog)?
        .into_iter()
        .filter(|o| o.learner && o.path.starts_with(&learner))
        .map(|o| (o.path, o.text))
        .collect())
}

/// `dev generate`: write what differs; with `check`, only say what differs.
pub fn generate(
    root: &Path,
    catalog: &[Exercise],
    check: bool,
    force: bool,
) -> Outcome {
    let outputs = match outputs(root, catalog) {
        Ok(outputs) => outputs,
        Err(errors) => {
            for error in errors {
                eprintln!("error: {error}");
            }
            return Ok(ExitCode::FAILURE);
        }
    };
    let mut differ = Vec::new();
    let mut ok = true;
    for output in &outputs {
        let current = fs::read_to_string(&output.path).ok();
        if current.as_deref() == Some(output.text.as_str()) {
            continue;
        }
        let name = rel(root, &output.path);
        if check {
            differ.push(name);
            continue;
        }
        // A learner's file that is not the stub is someone's work: keep it
        // unless told otherwise.
        if output.learner && current.is_some() && !force {
            eprintln!(
                "kept {name}: it differs from its stub (a learner's work?); \
                 `--force` replaces it"
            );
            ok = false;
            continue;
        }
        let written = output
            .path
            .parent()
            .map_or(Ok(()), fs::create_dir_all)
            .and_then(|()| fs::write(&output.path, &output.text));
        match written {
            Ok(()) => workbook::say!("wrote {name}"),
            Err(err) => {
                eprintln!("error: {name}: {err}");
                ok = false;
            }
        }
    }
    if check {
        if differ.is_empty() {
            workbook::say!(
                "ok: the stubs of {} exercises are what their solutions give",
                catalog.len()
            );
        } else {
            for name in &differ {
                eprintln!("differs from what the solution gives: {name}");
            }
            eprintln!(
                "error: {} files are stale; run `cargo workbook dev generate` and commit them",
                differ.len()
            );
            ok = false;
        }
    }
    Ok(match ok {
        true => ExitCode::SUCCESS,
        false => ExitCode::FAILURE,
    })
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> =
        fs::read_dir(dir)?.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, found)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
    Ok(())
}

fn rel(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOLUTION: &str = "\
//! Docs.
// STUB: #![allow(unused_imports)]
use std::fs;

pub fn answer(x: u32) -> u32 {
    // STUB: todo!(\"double {x}\")
    // BEGIN SOLUTION
    let doubled = x * 2;
    doubled
    // END SOLUTION
}
";

    #[test]
    fn stub_keeps_all_but_the_answer() {
        let expected = "\
//! Docs.
#![allow(unused_imports)]
use std::fs;

pub fn answer(x: u32) -> u32 {
    todo!(\"double {x}\")
}
";
        assert_eq!(stub(SOLUTION, "lib.rs").as_deref(), Ok(expected));
    }

    #[test]
    fn a_dropped_item_leaves_one_blank_line() {
        let source = "use a;\n\n// BEGIN SOLUTION\nfn helper() {}\n// END SOLUTION\n\npub fn f() {}\n";
        assert_eq!(
            stub(source, "lib.rs").as_deref(),
            Ok("use a;\n\npub fn f() {}\n")
        );
    }

    #[test]
    fn unbalanced_markers_are_errors() {
        for bad in [
            "// BEGIN SOLUTION\n",
            "// END SOLUTION\n",
            "// BEGIN SOLUTION\n// BEGIN SOLUTION\n// END SOLUTION\n",
            "// BEGIN SOLUTION\n// STUB: x\n// END SOLUTION\n",
        ] {
            assert!(stub(bad, "lib.rs").is_err(), "{bad}");
        }
    }

    #[test]
    fn manifest_renames() {
        let exercise = Exercise {
            id: "ex09".into(),
            package: "ex09-a-b".into(),
            chapter: "ch05".into(),
            title: "t".into(),
            hints: vec!["h".into()],
        };
        let solution = "[package]\nname = \"ex09-a-b-solution\"\ndescription = \"Do it. The solution.\"\n\
                        [lib]\nname = \"ex09_a_b_solution\"\n";
        let expected = "[package]\nname = \"ex09-a-b\"\ndescription = \"Do it.\"\n\
                        [lib]\nname = \"ex09_a_b\"\n";
        assert_eq!(
            manifest(solution, &exercise, "Cargo.toml").as_deref(),
            Ok(expected)
        );
    }
}
