//! The book (`book/`) agrees with the code it shows. No mdbook needed:
//! these checks read the Markdown sources as mdBook will.
//!
//! - Every chapter crate has its page in `book/src/SUMMARY.md`, in crate
//!   order, and every page listed exists.
//! - Every `{{#include path}}`, `{{#include path:anchor}}` and line-range
//!   include points at a file that exists, with both `ANCHOR: name` and
//!   `ANCHOR_END: name` in it, or with the lines asked for.
//! - Every output block is an include of an insta snapshot whose header is
//!   exactly four lines, from line 5 on: so the block is the normalised
//!   output that the chapter's own test compares with what the example
//!   prints (and `cargo test` fails when they differ). Output pasted into a
//!   page instead is an error.
//! - Diagrams (SVG, inlined into the page) have no blank line, which would
//!   end the HTML block in Markdown, and ids unique across the book.
//! - Relative links between pages point at files that exist (the rendered
//!   HTML's links and `#anchors` are checked by `.ci/check_links.py`).
//! - Each chapter page's exercises are the ones `exercises/exercises.toml`
//!   gives that chapter.
//!
//! Each problem is reported with its file and line, all at once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Component, Path, PathBuf};

use testkit::workspace::{chapters, root};

fn book_src() -> PathBuf {
    root().join("book/src")
}

/// Problems found, each `path:line: what`; the test fails with all of them.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn at(&mut self, file: &Path, line: usize, what: impl AsRef<str>) {
        let file = file.strip_prefix(root()).unwrap_or(file);
        self.0
            .push(format!("{}:{line}: {}", file.display(), what.as_ref()));
    }

    fn assert_none(self, what: &str) {
        if !self.0.is_empty() {
            panic!(
                "{} problem(s) with {what}:\n  {}\n",
                self.0.len(),
                self.0.join("\n  ")
            );
        }
    }
}

/// Every Markdown file under book/src, sorted.
fn pages() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).expect("read book/src").flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&book_src(), &mut out);
    out.sort();
    out
}

fn read(path: &Path) -> String {
    fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// `a/b/../c` -> `a/c`, without touching the filesystem.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// What follows the path in `{{#include path:...}}`.
#[derive(Debug, PartialEq)]
enum Part {
    Whole,
    Anchor(String),
    /// 1-based, inclusive; `None` is "to the end" (or "from the start").
    Lines(Option<usize>, Option<usize>),
}

/// One `{{#include ...}}` in a page.
#[derive(Debug)]
struct Include {
    page: PathBuf,
    /// 1-based line in the page.
    line: usize,
    target: PathBuf,
    part: Part,
    /// Inside a fenced code block, and that block's info string.
    fence: Option<String>,
    /// The include is the block's only line.
    alone_in_fence: bool,
}

/// mdBook's forms: `path`, `path:anchor`, `path:N`, `path:N:`, `path::M`,
/// `path:N:M`.
fn parse_part(spec: Option<&str>) -> Result<Part, String> {
    let Some(spec) = spec else {
        return Ok(Part::Whole);
    };
    let number = |s: &str| -> Result<Option<usize>, String> {
        if s.is_empty() {
            return Ok(None);
        }
        match s.parse::<usize>() {
            Ok(0) => Err("line numbers start at 1".into()),
            Ok(n) => Ok(Some(n)),
            Err(_) => Err(format!("{s:?} is not a line number")),
        }
    };
    match spec.split_once(':') {
        Some((from, to)) => Ok(Part::Lines(number(from)?, number(to)?)),
        None if spec.chars().all(|c| c.is_ascii_digit()) => {
            let n = number(spec)?;
            Ok(Part::Lines(n, n))
        }
        None => Ok(Part::Anchor(spec.to_owned())),
    }
}

/// Fenced blocks and includes of every page, with problems found on the way.
fn includes(problems: &mut Problems) -> Vec<Include> {
    let mut found = Vec::new();
    for page in pages() {
        let text = read(&page);
        let lines: Vec<&str> = text.lines().collect();
        let mut fence: Option<String> = None;
        for (i, line) in lines.iter().enumerate() {
            let trimmed = line.trim_start();
            if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
                fence = match fence {
                    Some(_) => None,
                    None => Some(trimmed[3..].trim().to_owned()),
                };
                continue;
            }
            let mut rest = *line;
            while let Some(at) = rest.find("{{#") {
                let escaped = rest[..at].ends_with('\\');
                let after = &rest[at + 3..];
                let Some(close) = after.find("}}") else {
                    problems.at(&page, i + 1, "`{{#` without `}}` on the same line");
                    break;
                };
                let body = after[..close].trim();
                rest = &after[close + 2..];
                if escaped {
                    continue;
                }
                let (command, arg) =
                    body.split_once(char::is_whitespace).unwrap_or((body, ""));
                if command != "include" {
                    problems.at(
                        &page,
                        i + 1,
                        format!("{{{{#{command}}}}} is not checked here: use {{{{#include}}}}"),
                    );
                    continue;
                }
                let arg = arg.trim();
                let (path, spec) = match arg.split_once(':') {
                    Some((path, spec)) => (path, Some(spec)),
                    None => (arg, None),
                };
                let part = match parse_part(spec) {
                    Ok(part) => part,
                    Err(why) => {
                        problems.at(
                            &page,
                            i + 1,
                            format!("{{{{#include {arg}}}}}: {why}"),
                        );
                        continue;
                    }
                };
                let dir = page.parent().expect("a page is in a directory");
                let alone_in_fence = fence.is_some()
                    && line.trim() == format!("{{{{#include {arg}}}}}")
                    && i > 0
                    && lines[i - 1].trim_start().starts_with("```")
                    && lines.get(i + 1).is_some_and(|l| l.trim() == "```");
                found.push(Include {
                    page: page.clone(),
                    line: i + 1,
                    target: normalize(&dir.join(path)),
                    part,
                    fence: fence.clone(),
                    alone_in_fence,
                });
            }
        }
        if fence.is_some() {
            problems.at(&page, lines.len(), "a fenced code block is never closed");
        }
    }
    found
}

/// The line numbers (1-based) of `ANCHOR: name` and `ANCHOR_END: name`, as
/// mdBook matches them: the marker, optional spaces, then the whole name.
fn anchor_lines(text: &str, marker: &str, name: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            line.match_indices(marker).any(|(at, _)| {
                let rest = line[at + marker.len()..].trim_start();
                rest.strip_prefix(name).is_some_and(|after| {
                    !after.starts_with(|c: char| {
                        c.is_alphanumeric() || c == '_' || c == '-'
                    })
                })
            })
        })
        .map(|(i, _)| i + 1)
        .collect()
}

#[test]
fn every_chapter_has_its_page_in_the_summary_in_crate_order() {
    let mut problems = Problems::default();
    let summary_path = book_src().join("SUMMARY.md");
    let summary = read(&summary_path);
    // Every link of the summary: (line, target).
    let links: Vec<(usize, String)> = summary
        .lines()
        .enumerate()
        .flat_map(|(i, line)| {
            line.match_indices("](")
                .filter_map(|(at, _)| {
                    let rest = &line[at + 2..];
                    rest.find(')').map(|end| (i + 1, rest[..end].to_owned()))
                })
                .collect::<Vec<_>>()
        })
        .collect();
    for (line, target) in &links {
        if !book_src().join(target).is_file() {
            problems.at(
                &summary_path,
                *line,
                format!("{target} is listed but book/src/{target} does not exist"),
            );
        }
    }
    let mut previous: Option<(usize, String)> = None;
    for chapter in chapters() {
        let page = format!("{chapter}.md");
        match links.iter().position(|(_, target)| *target == page) {
            None => problems.at(
                &summary_path,
                1,
                format!(
                    "no page for the chapter crate {chapter}: add [title]({page})"
                ),
            ),
            Some(index) => {
                if let Some((before, name)) = &previous {
                    if index < *before {
                        problems.at(
                            &summary_path,
                            links[index].0,
                            format!("{page} comes before {name}.md: keep the crates' order"),
                        );
                    }
                }
                previous = Some((index, chapter.clone()));
            }
        }
    }
    problems.assert_none("book/src/SUMMARY.md");
}

#[test]
fn every_include_and_anchor_exists() {
    let mut problems = Problems::default();
    for inc in includes(&mut problems) {
        let shown = inc
            .target
            .strip_prefix(root())
            .unwrap_or(&inc.target)
            .display()
            .to_string();
        let Ok(text) = fs::read_to_string(&inc.target) else {
            problems.at(
                &inc.page,
                inc.line,
                format!("included file {shown} does not exist"),
            );
            continue;
        };
        let count = text.lines().count();
        match &inc.part {
            Part::Whole => {}
            Part::Anchor(name) => {
                let starts = anchor_lines(&text, "ANCHOR:", name);
                let ends = anchor_lines(&text, "ANCHOR_END:", name);
                match (starts.as_slice(), ends.as_slice()) {
                    ([start], [end]) if start + 1 < *end => {}
                    ([start], [end]) => problems.at(
                        &inc.page,
                        inc.line,
                        format!(
                            "anchor {name} in {shown}: ANCHOR (line {start}) must come before \
                             ANCHOR_END (line {end}) with code between"
                        ),
                    ),
                    ([], _) => problems.at(
                        &inc.page,
                        inc.line,
                        format!("no `// ANCHOR: {name}` in {shown}"),
                    ),
                    (_, []) => problems.at(
                        &inc.page,
                        inc.line,
                        format!(
                            "no `// ANCHOR_END: {name}` in {shown} (mdBook would include the \
                             rest of the file)"
                        ),
                    ),
                    _ => problems.at(
                        &inc.page,
                        inc.line,
                        format!(
                            "anchor {name} is in {shown} more than once: ANCHOR at lines \
                             {starts:?}, ANCHOR_END at {ends:?}"
                        ),
                    ),
                }
            }
            Part::Lines(from, to) => {
                let (from, to) = (from.unwrap_or(1), to.unwrap_or(count));
                if from > to || to > count {
                    problems.at(
                        &inc.page,
                        inc.line,
                        format!("lines {from} to {to} of {shown}, which has {count} lines"),
                    );
                }
            }
        }
    }
    problems.assert_none("the book's {{#include}}s");
}

/// An insta snapshot's header: `---`, `source: ...`, `expression: ...`,
/// `---`. Returns why not, if it is not exactly that.
fn four_line_header(text: &str) -> Result<(), String> {
    let lines: Vec<&str> = text.lines().take(5).collect();
    if lines.len() < 5 {
        return Err("it has no output after its header".into());
    }
    if lines[0] != "---" || lines[3] != "---" {
        return Err(format!(
            "its header is not 4 lines (`---` at lines 1 and 4): {:?}",
            &lines[..4]
        ));
    }
    for line in &lines[1..3] {
        let key = line.split_once(": ").map(|(key, _)| key);
        if !key.is_some_and(|k| {
            !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        }) {
            return Err(format!("header line {line:?} is not `key: value`"));
        }
    }
    Ok(())
}

#[test]
fn every_output_block_is_a_snapshot_the_tests_check() {
    let mut problems = Problems::default();
    let chapters_dir = root().join("chapters");
    for inc in includes(&mut problems) {
        if inc.target.extension().is_none_or(|e| e != "snap") {
            continue;
        }
        let shown = inc.target.strip_prefix(root()).unwrap_or(&inc.target);
        let mut at = |what: String| problems.at(&inc.page, inc.line, what);
        // chapters/<package>/tests/snapshots/<test>__<name>.snap
        let Ok(inside) = inc.target.strip_prefix(&chapters_dir) else {
            at(format!("{} is not a chapter's snapshot", shown.display()));
            continue;
        };
        let parts: Vec<String> = inside
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let file_name = parts.last().cloned().unwrap_or_default();
        let test_stem = file_name.split("__").next().unwrap_or_default().to_owned();
        if parts.len() != 4 || parts[1] != "tests" || parts[2] != "snapshots" {
            at(format!(
                "{} is not in chapters/<package>/tests/snapshots/",
                shown.display()
            ));
            continue;
        }
        let Ok(text) = fs::read_to_string(&inc.target) else {
            continue; // reported by every_include_and_anchor_exists
        };
        if let Err(why) = four_line_header(&text) {
            at(format!("{}: {why}", shown.display()));
            continue;
        }
        // The test that writes and checks this snapshot must still exist.
        let source = text
            .lines()
            .nth(1)
            .and_then(|l| l.strip_prefix("source: "))
            .unwrap_or_default();
        let test_file = format!("chapters/{}/tests/{test_stem}.rs", parts[0]);
        if source != test_file || !root().join(&test_file).is_file() {
            at(format!(
                "{}: its test {test_file} is gone (header says `source: {source}`): a \
                 stale snapshot no test checks",
                shown.display()
            ));
        }
        match inc.part {
            Part::Lines(Some(from), _) if from >= 5 => {}
            _ => at(format!(
                "include {} from line 5 on (`:5:`), past its 4-line header",
                shown.display()
            )),
        }
        if inc.fence.as_deref() != Some("text") || !inc.alone_in_fence {
            at(format!(
                "{} must be the only line of a ```text block",
                shown.display()
            ));
        }
    }
    // Output typed into a page would drift from what the example prints.
    for page in pages() {
        let text = read(&page);
        let mut in_fence = false;
        for (i, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("```") {
                in_fence = !in_fence;
                continue;
            }
            let looks_like_output =
                line.contains("process <P") || line.contains(":[A]");
            if in_fence && looks_like_output && !line.contains("{{#include") {
                problems.at(
                    &page,
                    i + 1,
                    "output pasted into the page: include the chapter's snapshot instead",
                );
            }
        }
    }
    // Each chapter's page shows its code and its output.
    for chapter in chapters() {
        let page = book_src().join(format!("{chapter}.md"));
        let Ok(text) = fs::read_to_string(&page) else {
            continue; // reported by the summary test
        };
        let code = format!("chapters/{chapter}/src/");
        let output = format!("chapters/{chapter}/tests/snapshots/");
        if !text.contains(&code) {
            problems.at(&page, 1, format!("no {{{{#include}}}} of {code}"));
        }
        if !text.contains(&output) {
            problems.at(&page, 1, format!("no output block from {output}"));
        }
    }
    problems.assert_none("the book's output blocks");
}

#[test]
fn diagrams_inline_cleanly() {
    let mut problems = Problems::default();
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    for inc in includes(&mut problems) {
        if inc.target.extension().is_none_or(|e| e != "svg") {
            continue;
        }
        let shown = inc.target.strip_prefix(root()).unwrap_or(&inc.target);
        let Ok(text) = fs::read_to_string(&inc.target) else {
            continue; // reported by every_include_and_anchor_exists
        };
        let mut at = |what: String| problems.at(&inc.page, inc.line, what);
        if inc.fence.is_some() || inc.part != Part::Whole {
            at(format!(
                "{}: include the whole SVG, outside code blocks",
                shown.display()
            ));
        }
        if !text.starts_with("<svg ") || !text.contains("<title") {
            at(format!(
                "{}: start with <svg and give it a <title>",
                shown.display()
            ));
        }
        if let Some(blank) = text.lines().position(|l| l.trim().is_empty()) {
            at(format!(
                "{} has a blank line (line {}): Markdown would end the SVG there",
                shown.display(),
                blank + 1
            ));
        }
        for (at_id, _) in text.match_indices(" id=\"") {
            let rest = &text[at_id + 5..];
            let id = &rest[..rest.find('"').unwrap_or(0)];
            let here = shown.display().to_string();
            if let Some(other) = ids.insert(id.to_owned(), here.clone()) {
                if other != here {
                    problems.at(
                        &inc.page,
                        inc.line,
                        format!("id {id:?} is in {here} and in {other}: ids must be unique"),
                    );
                }
            }
        }
    }
    problems.assert_none("the book's diagrams");
}

#[test]
fn relative_links_between_pages_resolve() {
    let mut problems = Problems::default();
    for page in pages() {
        let text = read(&page);
        let mut in_fence = false;
        for (i, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("```") {
                in_fence = !in_fence;
            }
            if in_fence {
                continue;
            }
            for (at, _) in line.match_indices("](") {
                let rest = &line[at + 2..];
                let Some(end) = rest.find(')') else { continue };
                let target = &rest[..end];
                if target.contains("://")
                    || target.starts_with('#')
                    || target.starts_with("mailto:")
                {
                    continue;
                }
                let file = target.split('#').next().unwrap_or(target);
                let dir = page.parent().expect("a page is in a directory");
                if !dir.join(file).is_file() {
                    problems.at(
                        &page,
                        i + 1,
                        format!("link to {target}: no such file"),
                    );
                }
            }
        }
    }
    problems.assert_none("the book's links");
}

/// `(package, chapter, title)` of each exercise in exercises/exercises.toml,
/// in its order, read by the catalog's one parser (the `workbook` tool's).
fn exercises() -> Vec<(String, String, String)> {
    match workbook_tool::catalog::load(&root()) {
        Ok(all) => all
            .into_iter()
            .map(|e| (e.package, e.chapter, e.title))
            .collect(),
        Err(why) => {
            let mut problems = Problems::default();
            problems.0.push(why);
            problems.assert_none("exercises/exercises.toml");
            Vec::new()
        }
    }
}

#[test]
fn each_chapter_page_names_its_exercises() {
    let mut problems = Problems::default();
    let all = exercises();
    for chapter in chapters() {
        let page = book_src().join(format!("{chapter}.md"));
        let Ok(text) = fs::read_to_string(&page) else {
            continue; // reported by the summary test
        };
        for (package, _, title) in all.iter().filter(|(_, ch, _)| *ch == chapter) {
            if !text.contains(&format!(": {title}\n")) {
                problems.at(
                    &page,
                    1,
                    format!("no heading for {package}, titled {title:?} in exercises.toml"),
                );
            }
            if !text.contains(&format!("cargo test -p {package}")) {
                problems.at(
                    &page,
                    1,
                    format!(
                        "exercises.toml gives {package} to {chapter}: name \
                         `cargo test -p {package}` in its Exercises section"
                    ),
                );
            }
        }
    }
    // Every exercise the book names exists.
    for page in pages() {
        let text = read(&page);
        for (i, line) in text.lines().enumerate() {
            for (at, _) in line.match_indices("-p ex") {
                let name: String = line[at + 3..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect();
                let known = all.iter().any(|(package, _, _)| *package == name);
                if !known && name.trim_end_matches('-') != "exNN" {
                    problems.at(
                        &page,
                        i + 1,
                        format!("exercise {name} is not in exercises.toml"),
                    );
                }
            }
        }
    }
    problems.assert_none("the chapters' exercises (exercises/exercises.toml)");
}
