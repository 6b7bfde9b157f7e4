//! Reading the facts an example printed: the namespace on a line, a quoted
//! value. Each panics, showing the text, when the example no longer prints
//! what the test reads.

/// The first `type:[inode]` on the first line of `text` that contains
/// `marker`, e.g. `ns_on_line(out, "(child)", "uts")`.
pub fn ns_on_line(text: &str, marker: &str, ns_type: &str) -> String {
    let line = line_with(text, marker);
    let key = format!("{ns_type}:[");
    let start = line
        .find(&key)
        .unwrap_or_else(|| panic!("no {key}...] on line {line:?}\nin:\n{text}"));
    let end = line[start..].find(']').expect("closing ]") + start + 1;
    line[start..end].to_owned()
}

/// The first line of `text` containing `marker`; panics if none does.
pub fn line_with<'a>(text: &'a str, marker: &str) -> &'a str {
    text.lines()
        .find(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("no line contains {marker:?} in:\n{text}"))
}

/// The text between the first pair of double quotes after `marker` on the
/// first line containing it: `quoted_after(out, "hostname ")`.
pub fn quoted_after(line: &str, marker: &str) -> String {
    let at = line
        .find(marker)
        .unwrap_or_else(|| panic!("{marker:?} not in {line:?}"));
    let rest = &line[at + marker.len()..];
    let open = rest.find('"').expect("opening quote") + 1;
    let close = rest[open..].find('"').expect("closing quote") + open;
    rest[open..close].to_owned()
}
