//! `workbook dev maps [--check] [CHAPTER...]`, for authors: the book's
//! namespace maps, `book/src/images/map-<chapter>.svg`, drawn from each
//! chapter's committed root snapshot ([`crate::map::BOOK`]). The snapshots
//! are real runs, kept honest by the chapters' tests; `--check` (a test of
//! the tool runs it) fails when a committed map is not what its snapshot
//! draws now.

use std::fs;
use std::path::Path;
use std::process::ExitCode;

use crate::cli::{Outcome, Usage};
use crate::map::{self, BOOK};

pub fn maps(root: &Path, check: bool, only: &[&str]) -> Outcome {
    let chosen: Vec<&(&str, &str)> = BOOK
        .iter()
        .filter(|(chapter, _)| {
            only.is_empty()
                || only
                    .iter()
                    .any(|o| *o == *chapter || chapter.split('-').next() == Some(*o))
        })
        .collect();
    if let Some(unknown) = only.iter().find(|o| {
        !BOOK
            .iter()
            .any(|(c, _)| c == *o || c.split('-').next() == Some(**o))
    }) {
        return Err(Usage(format!(
            "{unknown:?} has no map in the book (tool/src/map/mod.rs, BOOK)"
        )));
    }
    let mut failed = false;
    for (chapter, snapshot) in chosen {
        let source = root.join(format!(
            "chapters/{chapter}/tests/snapshots/{snapshot}.snap"
        ));
        let text = match fs::read_to_string(&source) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("error: read(\"{}\") failed: {e}", source.display());
                failed = true;
                continue;
            }
        };
        let drawn = map::book_map(chapter, &text);
        let target = map::book_svg(root, chapter);
        let shown = target
            .strip_prefix(root)
            .unwrap_or(&target)
            .display()
            .to_string();
        let committed = fs::read_to_string(&target).ok();
        if committed.as_deref() == Some(drawn.as_str()) {
            workbook::say!("{shown}: up to date");
            continue;
        }
        if check {
            eprintln!(
                "{shown}: differs from what {snapshot}.snap draws; run `cargo workbook dev maps`"
            );
            failed = true;
            continue;
        }
        if let Err(e) = fs::write(&target, drawn) {
            eprintln!("error: write(\"{}\") failed: {e}", target.display());
            failed = true;
            continue;
        }
        workbook::say!("{shown}: written");
    }
    Ok(match failed {
        true => ExitCode::FAILURE,
        false => ExitCode::SUCCESS,
    })
}
