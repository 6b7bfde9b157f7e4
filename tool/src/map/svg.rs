//! A map as an SVG the book inlines: one lane per process, top to bottom in
//! the story's order, a box wherever the story showed the process somewhere
//! new, and at the foot which processes each namespace held.
//!
//! The style is book/diagrams.py's: 380 units wide (wider for more than
//! three processes, [`MIN_LANE`]), text at 13 to 16 units
//! in currentColor (so mdBook's light and dark themes both read it), colour
//! only in marks beside the text. Written by hand, as diagrams.py does: no
//! dependency for the tool to compile.

use std::fmt::Write as _;

use super::parse::{Map, Via, type_rank};

const W: usize = 380;
const MONO: &str = "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace";
const SANS: &str = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
/// A namespace's mark by its label's letter: A blue, B amber, C green, D
/// pink (diagrams.py's blue and amber first), others grey.
const COLOURS: &[&str] = &["#3b82f6", "#f59e0b", "#10b981", "#ec4899"];
const GREY: &str = "#9ca3af";
/// Left column: the story's line numbers.
const LEFT: usize = 40;
/// The narrowest lane: `user:[A]` and `unshare()` whole. A map of more
/// processes than 380 units hold at that is drawn wider (and may be shown
/// wider, so that its text keeps its size).
const MIN_LANE: usize = 96;
const LINE_H: usize = 18;

fn colour(label: &str) -> &'static str {
    let index = label
        .bytes()
        .next()
        .map_or(99, |b| usize::from(b.wrapping_sub(b'A')));
    match label.len() {
        1 => COLOURS.get(index).copied().unwrap_or(GREY),
        _ => GREY,
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[derive(Default)]
struct Svg {
    parts: Vec<String>,
}

#[derive(Default, Clone, Copy)]
struct Style {
    size: usize,
    mono: bool,
    bold: bool,
    faint: bool,
    middle: bool,
    end: bool,
}

impl Svg {
    fn text(&mut self, x: f64, y: usize, s: &str, st: Style) {
        let mut attrs = format!(
            "x=\"{}\" y=\"{y}\" font-size=\"{}\" fill=\"currentColor\"",
            num(x),
            st.size
        );
        if st.mono {
            let _ = write!(attrs, " font-family=\"{MONO}\"");
        }
        if st.bold {
            attrs.push_str(" font-weight=\"bold\"");
        }
        if st.middle {
            attrs.push_str(" text-anchor=\"middle\"");
        }
        if st.end {
            attrs.push_str(" text-anchor=\"end\"");
        }
        if st.faint {
            attrs.push_str(" fill-opacity=\"0.6\"");
        }
        self.parts
            .push(format!("<text {attrs}>{}</text>", escape(s)));
    }
}

/// A coordinate with at most one decimal, the same on every machine.
fn num(x: f64) -> String {
    let tenths = (x * 10.0).round() as i64;
    match tenths % 10 {
        0 => format!("{}", tenths / 10),
        _ => format!("{}.{}", tenths / 10, (tenths % 10).abs()),
    }
}

/// Cut `s` to `max` characters, with `…` for what was cut.
fn fit(s: &str, max: usize) -> String {
    match s.chars().count() > max {
        true => s.chars().take(max.saturating_sub(1)).collect::<String>() + "…",
        false => s.to_owned(),
    }
}

/// The SVG of `map`; `id` prefixes its element ids (unique in the book),
/// `title` is its title for a screen reader, `heading` the one drawn (short:
/// the chapter's name).
pub fn render(map: &Map, id: &str, title: &str, heading: &str) -> String {
    let lanes = map.placed();
    let n = lanes.len().max(1);
    let width = W.max(LEFT + 10 + MIN_LANE * n);
    let lane_w = (width - LEFT - 10) as f64 / n as f64;
    let centre = |lane: usize| LEFT as f64 + lane_w * (lane as f64 + 0.5);
    let lane_of =
        |process: usize| lanes.iter().position(|p| *p == process).unwrap_or(0);
    // Characters that fit in a lane, at 13 units of monospace (about 7.8
    // units a character) and of sans (about 7).
    let mono_fit = ((lane_w - 12.0) / 7.8).max(4.0) as usize;
    let sans_fit = ((lane_w - 8.0) / 7.0).max(4.0) as usize;
    let mut svg = Svg::default();
    let mono = Style {
        size: 13,
        mono: true,
        ..Style::default()
    };
    let mut y = 24;
    svg.text(
        10.0,
        y,
        &fit(heading, 38),
        Style {
            size: 16,
            bold: true,
            ..Style::default()
        },
    );
    y += 20;
    svg.text(
        10.0,
        y,
        "number: the line of the output; bold: what changed",
        Style {
            size: 13,
            faint: true,
            ..Style::default()
        },
    );
    for legend in [
        "labels in order of first appearance in the output:",
        "A is the first one printed, not necessarily the host's",
    ] {
        y += 18;
        svg.text(
            10.0,
            y,
            legend,
            Style {
                size: 13,
                faint: true,
                ..Style::default()
            },
        );
    }
    if let Some(user) = &map.entered {
        y += 18;
        svg.text(
            10.0,
            y,
            &format!("not root: the example first entered {user}"),
            Style {
                size: 13,
                faint: true,
                ..Style::default()
            },
        );
    }
    // Lane heads.
    y += 28;
    for (lane, &p) in lanes.iter().enumerate() {
        let process = &map.processes[p];
        svg.text(
            centre(lane),
            y,
            &fit(&process.name, mono_fit),
            Style {
                size: 14,
                mono: true,
                bold: true,
                middle: true,
                ..Style::default()
            },
        );
        if let Some(role) = &process.role {
            svg.text(
                centre(lane),
                y + 17,
                &fit(role, sans_fit),
                Style {
                    size: 13,
                    middle: true,
                    ..Style::default()
                },
            );
        }
    }
    y += 30;
    // Each lane's boxes, (top, bottom): its line runs between them.
    let mut spans: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
    let mut boxes: Vec<String> = Vec::new();
    for e in &map.events {
        let lane = lane_of(e.process);
        let call = e.via.call();
        let lines = e.state.len() + usize::from(call.is_some());
        let h = 10 + LINE_H * lines;
        let x = LEFT as f64 + lane_w * lane as f64 + 4.0;
        let w = lane_w - 8.0;
        if let Some(spans) = spans.get_mut(lane) {
            spans.push((y, y + h));
        }
        svg.text(
            LEFT as f64 - 6.0,
            y + 18,
            &e.line.to_string(),
            Style {
                size: 13,
                mono: true,
                faint: true,
                end: true,
                ..Style::default()
            },
        );
        boxes.push(format!(
            "<rect x=\"{}\" y=\"{y}\" width=\"{}\" height=\"{h}\" rx=\"6\" fill=\"none\" \
             stroke=\"currentColor\" stroke-opacity=\"0.5\" stroke-width=\"1.5\"/>",
            num(x),
            num(w)
        ));
        let mut ty = y + 18;
        if let Some(call) = call {
            svg.text(
                x + 8.0,
                ty,
                &format!("{call}()"),
                Style {
                    size: 13,
                    mono: true,
                    faint: true,
                    ..Style::default()
                },
            );
            ty += LINE_H;
        }
        for ns in &e.state {
            let changed = e.changes.iter().any(|c| c.new == *ns);
            boxes.push(format!(
                "<rect x=\"{}\" y=\"{}\" width=\"8\" height=\"8\" rx=\"2\" fill=\"{}\"/>",
                num(x + 7.0),
                ty - 9,
                colour(&ns.label)
            ));
            svg.text(
                x + 20.0,
                ty,
                &fit(&ns.to_string(), mono_fit.saturating_sub(2)),
                Style {
                    bold: changed,
                    faint: !changed,
                    ..mono
                },
            );
            ty += LINE_H;
        }
        y += h + 8;
    }
    // Lanes: a faint line from a process's first box down, between its
    // boxes.
    let bottom = y;
    let mut lines = Vec::new();
    for (lane, spans) in spans.iter().enumerate() {
        let ends = spans.iter().map(|(_, b)| *b);
        let starts = spans.iter().skip(1).map(|(t, _)| *t).chain([bottom]);
        for (from, to) in ends.zip(starts) {
            lines.push(format!(
                "<line x1=\"{x}\" y1=\"{from}\" x2=\"{x}\" y2=\"{to}\" stroke=\"currentColor\" \
                 stroke-opacity=\"0.3\" stroke-width=\"1.5\" stroke-dasharray=\"4 4\"/>",
                x = num(centre(lane))
            ));
        }
    }
    // Lanes and boxes under the text.
    let texts = std::mem::take(&mut svg.parts);
    svg.parts = lines.into_iter().chain(boxes).chain(texts).collect();
    // The namespaces, and who was seen in each.
    y += 16;
    svg.text(
        10.0,
        y,
        "Seen in each namespace",
        Style {
            size: 14,
            bold: true,
            ..Style::default()
        },
    );
    let mut members = map.members();
    members.sort_by_key(|(ns, _)| (type_rank(&ns.kind), ns.label.clone()));
    for (ns, procs) in &members {
        y += 20;
        svg.parts.push(format!(
            "<rect x=\"10\" y=\"{}\" width=\"8\" height=\"8\" rx=\"2\" fill=\"{}\"/>",
            y - 9,
            colour(&ns.label)
        ));
        svg.text(22.0, y, &ns.to_string(), mono);
        let names: Vec<String> = procs
            .iter()
            .map(|(p, _)| map.processes[*p].name.clone())
            .collect();
        svg.text(
            122.0,
            y,
            &fit(&names.join(" "), (width - 132) * 10 / 78),
            mono,
        );
    }
    y += 14;
    let desc = describe(map);
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {y}\" font-family=\"{SANS}\" \
         role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" style=\"display: block; \
         width: 100%; max-width: {max}px; height: auto; margin: 1em auto;\">\n\
         <title id=\"{id}-title\">{}</title>\n<desc id=\"{id}-desc\">{}</desc>\n",
        escape(title),
        escape(&desc),
        max = 480 * width / W
    );
    for part in svg.parts {
        out.push_str(&part);
        out.push('\n');
    }
    out.push_str("</svg>\n");
    out
}

/// The map in one paragraph, for a screen reader.
fn describe(map: &Map) -> String {
    let mut sentences = Vec::new();
    for e in &map.events {
        let process = &map.processes[e.process];
        let moves: Vec<String> = e
            .changes
            .iter()
            .map(|c| match &c.old {
                Some(old) => format!("from {old} to {}", c.new),
                None => format!("in {}", c.new),
            })
            .collect();
        let how = match e.via {
            Via::Seen => String::new(),
            via => format!(" by {}()", via.call().unwrap_or("")),
        };
        sentences.push(format!(
            "Line {}: {process} {}{how}.",
            e.line,
            moves.join(", ")
        ));
    }
    sentences.join(" ")
}
