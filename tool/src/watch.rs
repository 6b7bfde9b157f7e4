//! `watch`: placeholder.
use std::path::Path;
use std::process::ExitCode;

use crate::catalog::Exercise;
use crate::cli::Outcome;

pub fn watch(_root: &Path, _catalog: &[Exercise]) -> Outcome {
    eprintln!("watch: not yet");
    Ok(ExitCode::FAILURE)
}
