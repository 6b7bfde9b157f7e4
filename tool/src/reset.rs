//! `reset EXERCISE [--yes]`: put one exercise's source files back to their
//! stub, after asking.

use std::fs;
use std::path::Path;
use std::process::ExitCode;

use crate::catalog::{self, Exercise};
use crate::cli::{self, Outcome, Usage};
use crate::dev::generate;

pub fn reset(root: &Path, catalog: &[Exercise], args: &[&str]) -> Outcome {
    let yes = args.contains(&"--yes");
    let names: Vec<&str> = args.iter().copied().filter(|a| *a != "--yes").collect();
    let [name] = names.as_slice() else {
        return Err(Usage("reset needs one exercise, e.g. `reset ex03`".into()));
    };
    let exercise = catalog::find(catalog, name).map_err(Usage)?;
    let stubs = match generate::stubs(root, catalog, exercise) {
        Ok(stubs) => stubs,
        Err(errors) => {
            for error in errors {
                eprintln!("error: {error}");
            }
            return Ok(ExitCode::FAILURE);
        }
    };
    let changed: Vec<_> = stubs
        .iter()
        .filter(|(path, text)| {
            fs::read_to_string(path).ok().as_deref() != Some(text)
        })
        .collect();
    if changed.is_empty() {
        workbook::say!(
            "{} is its stub already: nothing to reset.",
            exercise.package
        );
        return Ok(ExitCode::SUCCESS);
    }
    let names: Vec<String> = changed
        .iter()
        .map(|(path, _)| {
            path.strip_prefix(root)
                .unwrap_or(path)
                .display()
                .to_string()
        })
        .collect();
    let question = format!(
        "Put {} back to its stub? Your changes are lost.",
        names.join(", ")
    );
    if !yes && !cli::confirm(&question, "--yes") {
        workbook::say!("Left {} as it is.", exercise.package);
        return Ok(ExitCode::FAILURE);
    }
    for ((path, text), name) in changed.iter().zip(&names) {
        if let Err(err) = fs::write(path, text) {
            eprintln!("error: write({name}): {err}");
            return Ok(ExitCode::FAILURE);
        }
        workbook::say!("reset {name}");
    }
    Ok(ExitCode::SUCCESS)
}
