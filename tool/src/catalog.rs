//! `exercises/exercises.toml`: every exercise, in book order, with its
//! chapter, title and hints. The one parser of that file: the `workbook`
//! command, the book's test (`testkit/tests/book.rs`) and CI (through
//! `workbook dev list`) all read it here.
//!
//! The file is TOML, but only this much of it, read by the few lines below
//! (a TOML library would be a dependency for thirty lines of text):
//!
//! ```text
//! # a comment
//! [[exercise]]
//! id = "ex03"
//! package = "ex03-unshare-uts"
//! chapter = "ch02-unshare"
//! title = "A hostname the host never sees"
//! hint1 = "gentle"
//! hint2 = "nearly the answer"
//! ```
//!
//! One `key = "value"` per line; in a value, `\"` and `\\` are the only
//! escapes. An unknown key is an error, so a typo cannot hide a hint.

use std::path::Path;

/// One exercise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exercise {
    /// `ex03`: what `hint` takes and the test binary is named.
    pub id: String,
    /// `ex03-unshare-uts`: the learner's crate in `exercises/`; the solution
    /// is the same directory name in `solutions/`, package `<package>-solution`.
    pub package: String,
    /// The chapter's package, `ch02-unshare`.
    pub chapter: String,
    pub title: String,
    /// From gentle to nearly the answer.
    pub hints: Vec<String>,
}

impl Exercise {
    /// `ex03_unshare_uts`: the library name, shared by exercise and solution
    /// (`<lib>_solution` for the latter).
    pub fn lib_name(&self) -> String {
        self.package.replace('-', "_")
    }
}

pub const FILE: &str = "exercises/exercises.toml";

pub fn load(root: &Path) -> Result<Vec<Exercise>, String> {
    let path = root.join(FILE);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("{FILE}:{e}"))
}

/// The exercise called `name`: its id (`ex03`), its number (`3`) or its
/// package (`ex03-unshare-uts`). The error lists the ids there are.
pub fn find<'a>(
    catalog: &'a [Exercise],
    name: &str,
) -> Result<&'a Exercise, String> {
    let padded = format!("ex{name:0>2}");
    catalog
        .iter()
        .find(|e| e.id == name || e.package == name || e.id == padded)
        .ok_or_else(|| {
            let ids: Vec<&str> = catalog.iter().map(|e| e.id.as_str()).collect();
            format!("no exercise {name:?}; there are {}", ids.join(" "))
        })
}

/// Errors start with the line number.
pub fn parse(text: &str) -> Result<Vec<Exercise>, String> {
    let mut exercises: Vec<Exercise> = Vec::new();
    let mut current: Option<Exercise> = None;
    for (number, line) in text.lines().enumerate() {
        let number = number + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line == "[[exercise]]" {
            if let Some(done) = current.take() {
                exercises.push(finish(done)?);
            }
            current = Some(Exercise {
                id: String::new(),
                package: String::new(),
                chapter: String::new(),
                title: String::new(),
                hints: Vec::new(),
            });
            continue;
        }
        let Some(exercise) = current.as_mut() else {
            return Err(format!("{number}: expected [[exercise]] first"));
        };
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| format!("{number}: expected key = \"value\""))?;
        let value = string(value.trim())
            .ok_or_else(|| format!("{number}: expected a \"string\""))?;
        match key.trim() {
            "id" => exercise.id = value,
            "package" => exercise.package = value,
            "chapter" => exercise.chapter = value,
            "title" => exercise.title = value,
            key if key
                .strip_prefix("hint")
                .and_then(|n| n.parse::<usize>().ok())
                == Some(exercise.hints.len() + 1) =>
            {
                exercise.hints.push(value)
            }
            key => {
                return Err(format!(
                    "{number}: unexpected key {key:?} (hints go hint1, hint2, ...)"
                ));
            }
        }
    }
    if let Some(done) = current.take() {
        exercises.push(finish(done)?);
    }
    Ok(exercises)
}

fn finish(exercise: Exercise) -> Result<Exercise, String> {
    let missing = [
        ("id", &exercise.id),
        ("package", &exercise.package),
        ("chapter", &exercise.chapter),
        ("title", &exercise.title),
    ]
    .into_iter()
    .find(|(_, value)| value.is_empty());
    if let Some((key, _)) = missing {
        return Err(format!(" an exercise has no {key}"));
    }
    if exercise.hints.is_empty() {
        return Err(format!(" {} has no hint1", exercise.id));
    }
    if !exercise.package.starts_with(&format!("{}-", exercise.id)) {
        return Err(format!(
            " package {:?} does not start with its id {:?}",
            exercise.package, exercise.id
        ));
    }
    Ok(exercise)
}

/// `"text"` with `\"` and `\\` escapes, and nothing after the closing quote.
fn string(quoted: &str) -> Option<String> {
    let inner = quoted.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                c @ ('"' | '\\') => out.push(c),
                _ => return None,
            },
            '"' => return chars.as_str().trim().is_empty().then_some(out),
            c => out.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_exercises_in_order() {
        let text = "# order\n[[exercise]]\nid = \"ex01\"\npackage = \"ex01-a\"\nchapter = \"ch01\"\n\
                    title = \"A \\\"b\\\"\"\nhint1 = \"one\"\nhint2 = \"two\"\n\n[[exercise]]\n\
                    id = \"ex02\"\npackage = \"ex02-b\"\nchapter = \"ch01\"\ntitle = \"B\"\nhint1 = \"x\"\n";
        let exercises = parse(text).unwrap_or_default();
        assert_eq!(exercises.len(), 2);
        assert_eq!(exercises[0].title, "A \"b\"");
        assert_eq!(exercises[0].hints, ["one", "two"]);
        assert_eq!(exercises[1].lib_name(), "ex02_b");
        for name in ["ex02", "2", "ex02-b"] {
            assert_eq!(find(&exercises, name).map(|e| &e.id), Ok(&exercises[1].id));
        }
        assert!(find(&exercises, "ex9").is_err());
    }

    #[test]
    fn refuses_typos_and_gaps() {
        let head = "[[exercise]]\nid = \"ex01\"\npackage = \"ex01-a\"\nchapter = \"c\"\ntitle = \"t\"\n";
        assert!(parse(&format!("{head}hint1 = \"a\"\nhnit2 = \"b\"\n")).is_err());
        assert!(parse(&format!("{head}hint2 = \"b\"\n")).is_err());
        assert!(parse(&format!("{head}hint1 = \"a\" x\n")).is_err());
        assert!(parse(head).is_err(), "no hint");
        assert!(parse("id = \"ex01\"\n").is_err());
    }
}
