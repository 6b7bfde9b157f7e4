//! `workbook map -` on real runs of chapter 4, as root and as an
//! unprivileged user (uid 65534 when the tests are root): the example runs
//! through testkit, its stdout goes to the map as the learner would pipe it
//! (`cargo run -q -p ch04-join-proc | cargo workbook map -`), and the map,
//! run as the same user, must show the joiner moving by setns(2) into the
//! target's UTS namespace. The parser's cases on every snapshot are unit
//! tests (tool/src/map/tests.rs); `map CHAPTER`'s cargo call and `dev maps`
//! are in commands.rs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::process::Stdio;

use testkit::workspace::built;
use testkit::{Example, RunDir, User};

testkit::cases!(root_run_mapped, unprivileged_run_mapped);

fn root_run_mapped() {
    mapped(User::Root);
}

fn unprivileged_run_mapped() {
    mapped(User::Unprivileged);
}

fn mapped(user: User) {
    let Some(ch04) = built("ch04-join-proc") else {
        return; // skipped, with the reason (testkit::skip)
    };
    let Some(ran) = Example::new(ch04).run(user, &[]) else {
        return;
    };
    let story = ran.success().to_owned();
    let dir = RunDir::new();
    let svg = dir.path().join("map.svg");
    let svg_arg = svg.display().to_string();
    // The map as the same user: uid 65534 runs a public copy of the tool,
    // from /, and writes its SVG in the run directory (mode 1777).
    let args = ["map", "-", "--svg", &svg_arg];
    let Some(mut prepared) =
        Example::new(env!("CARGO_BIN_EXE_workbook")).prepare(user)
    else {
        return;
    };
    let mut child = prepared
        .command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting workbook map");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(story.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    // The line the joiner moved on, in the run's own story.
    let setns_line = story
        .lines()
        .position(|l| l.contains("setns(uts_fd, CLONE_NEWUTS)"))
        .expect("the story has the setns line")
        + 1;
    let moved = format!("uts:[A] -> uts:[B] (line {setns_line}, setns())");
    assert!(stdout.contains("<P1> (joiner)"), "{stdout}");
    assert!(stdout.contains(&moved), "no {moved:?} in\n{stdout}");
    assert!(
        stdout.contains("uts:[B]    <P2> (") && stdout.contains("  shared"),
        "uts:[B] is shared by the target and the joiner:\n{stdout}"
    );
    // Unprivileged, the story begins with the user namespace it entered;
    // the joiner's own lines are the same.
    assert!(!stdout.contains("uts:[C]"), "{stdout}");
    assert_eq!(
        stdout.contains("Not root: the example first entered user:[A]"),
        user == User::Unprivileged,
        "{stdout}"
    );
    let drawn = std::fs::read_to_string(&svg).expect("the SVG was written");
    assert!(
        drawn.starts_with("<svg ") && drawn.contains("setns()"),
        "{drawn}"
    );
}
