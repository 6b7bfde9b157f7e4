//! The parser on the chapters' real snapshots: every story reads without
//! error, and where a line names a namespace that is not the process's own
//! (`not its parent's uts:[A]`, `pid_for_children`, an EPERM on the host's
//! UTS namespace), the map does not put the process there.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};

use super::parse::{Map, Ns, Via, parse, snapshot_body};
use super::{BOOK, book_map, svg};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn snapshots() -> Vec<PathBuf> {
    let mut all = Vec::new();
    for chapter in fs::read_dir(root().join("chapters")).unwrap() {
        let dir = chapter.unwrap().path().join("tests/snapshots");
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for e in entries {
            let path = e.unwrap().path();
            if path.extension().is_some_and(|x| x == "snap") {
                all.push(path);
            }
        }
    }
    all.sort();
    all
}

fn story(name: &str) -> String {
    let (chapter, _) = name.split_once("__").unwrap();
    let dir = fs::read_dir(root().join("chapters"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("{chapter}-"))
        })
        .unwrap();
    let text = fs::read_to_string(dir.join(format!("tests/snapshots/{name}.snap")))
        .unwrap();
    snapshot_body(&text).to_owned()
}

fn ns(text: &str) -> Ns {
    let (kind, rest) = text.split_once(":[").unwrap();
    Ns {
        kind: kind.into(),
        label: rest.trim_end_matches(']').into(),
    }
}

fn index(map: &Map, name: &str) -> usize {
    map.processes
        .iter()
        .position(|p| p.name == name)
        .unwrap_or_else(|| panic!("no process {name} in {map:#?}"))
}

/// Every namespace `name` was ever seen in, in order.
fn path_of(map: &Map, name: &str) -> Vec<String> {
    let p = index(map, name);
    let mut out = Vec::new();
    for e in map.events.iter().filter(|e| e.process == p) {
        for c in &e.changes {
            if let Some(old) = &c.old
                && !out.contains(&old.to_string())
            {
                out.push(old.to_string());
            }
            out.push(c.new.to_string());
        }
    }
    out
}

/// The 1-based line of `story` that contains `needle`.
fn line_of(story: &str, needle: &str) -> usize {
    story.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn every_snapshot_reads_and_draws() {
    let all = snapshots();
    assert!(all.len() >= 30, "found only {} snapshots", all.len());
    let mut placed_somewhere = 0;
    for path in all {
        let text = fs::read_to_string(&path).unwrap();
        let body = snapshot_body(&text);
        assert!(!body.starts_with("---"), "{}: header left", path.display());
        let map = parse(body);
        for e in &map.events {
            assert!(e.line >= 1 && e.line <= body.lines().count());
            assert!(!e.changes.is_empty());
            for c in &e.changes {
                assert_ne!(c.old.as_ref(), Some(&c.new), "{}", path.display());
                assert!(e.state.contains(&c.new));
            }
        }
        if !map.events.is_empty() {
            placed_somewhere += 1;
        }
        let _ = super::text(&map, "x");
        let drawn = svg::render(&map, "t", "t", "t");
        assert_eq!(drawn, svg::render(&map, "t", "t", "t"), "not deterministic");
        assert!(drawn.starts_with("<svg ") && drawn.ends_with("</svg>\n"));
        assert!(!drawn.lines().any(|l| l.trim().is_empty()), "blank line");
        assert_eq!(
            drawn.matches("<text").count(),
            drawn.matches("</text>").count()
        );
    }
    assert!(
        placed_somewhere >= 20,
        "only {placed_somewhere} stories placed a process"
    );
}

#[test]
fn ch03_the_child_is_not_in_its_parents_namespace() {
    let map = parse(&story("ch03__root"));
    assert_eq!(path_of(&map, "<P1>"), ["uts:[A]"]);
    // "is in uts:[B], not its parent's uts:[A]".
    assert_eq!(path_of(&map, "<P2>"), ["uts:[B]"]);
    assert_eq!(
        map.processes[index(&map, "<P2>")].role.as_deref(),
        Some("child")
    );
}

#[test]
fn ch04_the_joiner_moves_by_setns_not_by_opening_the_file() {
    let s = story("ch04__root");
    let map = parse(&s);
    assert_eq!(path_of(&map, "<P1>"), ["uts:[A]", "uts:[B]"]);
    let joiner = index(&map, "<P1>");
    let moved = map
        .events
        .iter()
        .find(|e| e.process == joiner && e.state == [ns("uts:[B]")])
        .unwrap();
    // Not the open("/proc/<P2>/ns/uts") line, "a descriptor of uts:[B]".
    assert_eq!(moved.line, line_of(&s, "setns(uts_fd"));
    assert_eq!(moved.via, Via::Setns);
    let target = map.events.iter().find(|e| e.process == index(&map, "<P2>"));
    assert_eq!(target.unwrap().via, Via::Unshare);
    let members = map.members();
    let b = members.iter().find(|(n, _)| *n == ns("uts:[B]")).unwrap();
    assert_eq!(b.1.len(), 2, "uts:[B] held both: {members:?}");
}

#[test]
fn ch05_one_call_moves_two_types_and_the_failed_one_none() {
    let s = story("ch05__root");
    let map = parse(&s);
    assert_eq!(
        path_of(&map, "<P1>"),
        ["uts:[A]", "net:[A]", "uts:[B]", "net:[B]"]
    );
    let joiner = index(&map, "<P1>");
    let moves: Vec<usize> = map
        .events
        .iter()
        .filter(|e| e.process == joiner && e.via == Via::Setns)
        .map(|e| e.line)
        .collect();
    assert_eq!(
        moves,
        [line_of(&s, "setns(pidfd, CLONE_NEWUTS | CLONE_NEWNET)")]
    );
}

#[test]
fn ch07_an_eperm_on_the_hosts_namespace_puts_no_one_there() {
    let map = parse(&story("ch07__root"));
    assert_eq!(path_of(&map, "<P1>"), ["user:[A]", "uts:[A]"]);
    // "uts:[A] belongs to user:[A]": the child is never shown in them.
    assert_eq!(path_of(&map, "<P2>"), ["user:[B]", "uts:[B]"]);
    // "uid 0 here is uid 65534 in user:[A]" is an id seen from there.
    let nest = parse(&story("ch07__unprivileged-nest"));
    assert!(!path_of(&nest, "<P2>").contains(&"user:[A]".to_owned()));
}

#[test]
fn ch08_pid_for_children_is_not_the_callers_and_nspid_names_pid_1() {
    let map = parse(&story("ch08__root"));
    assert_eq!(path_of(&map, "<P1>"), ["pid:[A]"]);
    let init = index(&map, "<P2>");
    assert_eq!(map.processes[init].role.as_deref(), Some("init"));
    // Its innermost PID namespace only, then its own mount namespace.
    assert_eq!(path_of(&map, "<P2>"), ["pid:[B]", "mnt:[A]"]);
    assert_eq!(path_of(&map, "<P3>"), ["pid:[C]"]);
    assert_eq!(
        map.processes[index(&map, "<P3>")].role.as_deref(),
        Some("nested")
    );
}

#[test]
fn ch13_time_for_children_is_not_the_callers() {
    let s = story("ch13__root");
    let map = parse(&s);
    assert_eq!(path_of(&map, "<P1>"), ["time:[A]", "time:[B]"]);
    let parent = index(&map, "<P1>");
    let moved = map
        .events
        .iter()
        .find(|e| e.process == parent && e.via == Via::Setns)
        .unwrap();
    assert_eq!(moved.line, line_of(&s, "setns(time_fd"));
}

#[test]
fn ch01_the_table_rows_are_the_processes_namespaces() {
    let map = parse(&story("ch01__root"));
    for p in ["<P1>", "<P2>"] {
        let path = path_of(&map, p);
        assert_eq!(path.len(), 8, "{p}: {path:?}");
        assert!(path.iter().all(|n| n.ends_with(":[A]")), "{path:?}");
    }
    // One event per table, lines 2 to 11 and 18 to 27.
    let spans: Vec<(usize, usize)> =
        map.events.iter().map(|e| (e.line, e.last_line)).collect();
    assert_eq!(spans, [(2, 11), (18, 27)]);
}

#[test]
fn ch06_and_ch10_where_it_was_and_where_it_went() {
    let map = parse(&story("ch06__root"));
    assert_eq!(path_of(&map, "<P1>"), ["mnt:[A]", "mnt:[B]", "uts:[A]"]);
    assert_eq!(path_of(&map, "<P3>"), ["uts:[B]"]);
    let map = parse(&story("ch10__root"));
    assert_eq!(
        path_of(&map, "<P1>"),
        [
            "net:[A]", "net:[B]", "net:[C]", "net:[B]", "net:[C]", "net:[B]"
        ]
    );
}

#[test]
fn ch14_a_call_moves_only_the_types_its_flags_name_and_the_tree_rows_place() {
    let s = story("ch14__root");
    let map = parse(&s);
    // Line 5: "in pid:[B], where getpid() -> 1; unshare(CLONE_NEWUTS) ->
    // uts:[C]": born in pid:[B], moved to uts:[C] by the call.
    let line = line_of(&s, "unshare(CLONE_NEWUTS) -> uts:[C]");
    let p3 = index(&map, "<P3>");
    let on_line: Vec<(Via, Vec<String>)> = map
        .events
        .iter()
        .filter(|e| e.process == p3 && e.line == line)
        .map(|e| (e.via, e.changes.iter().map(|c| c.new.to_string()).collect()))
        .collect();
    assert_eq!(
        on_line,
        [
            (Via::Seen, vec!["pid:[B]".to_owned()]),
            (Via::Unshare, vec!["uts:[C]".to_owned()]),
        ]
    );
    // The tree's rows: "pid:[A] ...: process <P1>, process <P2>".
    let members = map.members();
    let names = |n: &str| -> Vec<String> {
        let (_, procs) = members.iter().find(|(m, _)| *m == ns(n)).unwrap();
        procs
            .iter()
            .map(|(p, _)| map.processes[*p].name.clone())
            .collect()
    };
    assert_eq!(names("pid:[A]"), ["<P1>", "<P2>"]);
    assert_eq!(names("ipc:[B]"), ["<P2>", "<P3>"]);
    assert_eq!(names("pid:[B]"), ["<P3>"]);
    assert_eq!(names("uts:[B]"), ["<P2>"]);
    // "child of user:[A]", "owned by user:[B]" place no one.
    assert_eq!(names("user:[A]"), ["<P1>"]);
    assert_eq!(
        path_of(&map, "<P2>"),
        ["user:[B]", "uts:[B]", "ipc:[B]", "pid:[A]"]
    );
}

#[test]
fn ch15_it_is_the_keeper_not_the_parent() {
    let map = parse(&story("ch15__root"));
    // "held by process <P8>'s pid_for_children; it is in pid:[D]".
    assert_eq!(path_of(&map, "<P8>"), ["pid:[D]", "time:[B]"]);
    // The parent is never shown in a namespace; for_children ones place
    // no one.
    assert!(path_of(&map, "<P1>").is_empty());
    assert!(path_of(&map, "<P6>").is_empty());
    assert_eq!(path_of(&map, "<P5>"), ["user:[A]", "uts:[D]"]);
    assert_eq!(path_of(&map, "<P9>"), ["net:[A]"]);
}

#[test]
fn the_books_maps_are_drawn_from_snapshots_that_exist() {
    for (chapter, snapshot) in BOOK {
        let path = root().join(format!(
            "chapters/{chapter}/tests/snapshots/{snapshot}.snap"
        ));
        let text = fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let drawn = book_map(chapter, &text);
        assert!(drawn.contains("<rect"), "{chapter}: an empty map");
        let id = format!("map-{}-title", chapter.split('-').next().unwrap());
        assert!(drawn.contains(&id), "{chapter}");
    }
}

#[test]
fn a_run_without_root_says_which_user_namespace_it_entered() {
    let map = parse(&story("ch04__unprivileged"));
    assert_eq!(map.entered, Some(ns("user:[A]")));
    assert_eq!(path_of(&map, "<P1>"), ["uts:[A]", "uts:[B]"]);
    assert!(super::text(&map, "x").contains("first entered user:[A], as its root"));
    assert_eq!(parse(&story("ch04__root")).entered, None);
}
