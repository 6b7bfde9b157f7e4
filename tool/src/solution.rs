//! `solution EXERCISE [--yes]`: the answer, in `solutions/<package>/src/`.
//! Shown once the exercise passes, or after a confirmation: the check, not
//! the solution, is the teacher.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::catalog::{self, Exercise};
use crate::cli::{self, Outcome, Usage};
use crate::progress;

pub fn solution(root: &Path, catalog: &[Exercise], args: &[&str]) -> Outcome {
    let yes = args.contains(&"--yes");
    let names: Vec<&str> = args.iter().copied().filter(|a| *a != "--yes").collect();
    let [name] = names.as_slice() else {
        return Err(Usage(
            "solution needs one exercise, e.g. `solution ex03`".into(),
        ));
    };
    let exercise = catalog::find(catalog, name).map_err(Usage)?;
    let dir = root.join("solutions").join(&exercise.package).join("src");
    if !yes && !progress::verdict(root, exercise).passed() {
        let question = format!(
            "{} does not pass yet. The check, not the solution, is the teacher: \
             `cargo test -p {}` says what is missing, `cargo workbook hint {}` \
             gives a hint. Show the solution anyway?",
            exercise.id, exercise.package, exercise.id
        );
        if !cli::confirm(&question, "--yes") {
            return Ok(ExitCode::FAILURE);
        }
    }
    let mut files = Vec::new();
    rust_files(&dir, &mut files);
    if files.is_empty() {
        eprintln!("error: no solution in {}", dir.display());
        return Ok(ExitCode::FAILURE);
    }
    for file in files {
        let name = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .display()
            .to_string();
        match fs::read_to_string(&file) {
            Ok(text) => workbook::say!("==> {name} <==\n{text}"),
            Err(err) => {
                eprintln!("error: read({name}): {err}");
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}
