//! `doctor`: placeholder.
use std::path::Path;
use std::process::ExitCode;

use crate::cli::Outcome;

pub fn doctor(_root: &Path) -> Outcome {
    Ok(ExitCode::FAILURE)
}
