//! `watch`, driven through its stdin and stdout as a learner's terminal
//! would: it checks the exercise, a save of one of its files brings the new
//! verdict, keys are read, and the manual fallback re-runs on Enter. The
//! test synchronises on watch's output (each check ends with the keys
//! line), never on time.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fixture;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Stdio};

use fixture::Fixture;

const SOLVED: &str = "pub fn add(a: u32, b: u32) -> u32 {\n    a + b\n}\n";

struct Watch {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Watch {
    fn start(fx: &Fixture, args: &[&str]) -> Watch {
        let mut all = vec!["watch"];
        all.extend_from_slice(args);
        let mut child = fx
            .workbook(&all)
            .env("CARGO", fx.fake_cargo())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting workbook watch");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        Watch {
            child,
            stdin,
            stdout,
        }
    }

    /// Everything watch prints up to and including its next keys line.
    fn next_block(&mut self) -> String {
        let mut block = String::new();
        loop {
            let mut line = String::new();
            let n = self.stdout.read_line(&mut line).expect("reading watch");
            assert!(n > 0, "watch ended early; it printed:\n{block}");
            block.push_str(&line);
            if line.starts_with("keys (then Enter)") {
                return block;
            }
        }
    }

    fn type_line(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").expect("writing to watch");
    }

    fn quit(mut self) {
        self.type_line("q");
        let status = self.child.wait().expect("waiting for watch");
        assert_eq!(status.code(), Some(0));
    }
}

#[test]
fn a_save_brings_the_new_verdict() {
    let fx = Fixture::new("watch");
    let mut watch = Watch::start(&fx, &[]);
    let first = watch.next_block();
    assert!(
        first.contains("not yet: adds (root): still todo!()"),
        "{first}"
    );
    assert!(first.contains("] 0/1"), "{first}");
    assert!(first.contains("each time you save"), "{first}");
    // The learner saves the exercise: no key pressed, the save alone.
    fx.write("exercises/ex01-add/src/lib.rs", SOLVED);
    let second = watch.next_block();
    assert!(
        second.contains("passed (unprivileged cases only; root cases not run)"),
        "{second}"
    );
    assert!(second.contains("] 1/1"), "{second}");
    assert_eq!(fx.cargo_runs(), 2, "one check per save");
    watch.type_line("h");
    let hint = watch.next_block();
    assert!(hint.contains("hint 1 of 2:\n  one\n"), "{hint}");
    watch.type_line("l");
    let list = watch.next_block();
    assert!(list.contains("passed   ex01-add"), "{list}");
    watch.quit();
}

#[test]
fn the_manual_fallback_checks_again_on_enter() {
    let fx = Fixture::new("watch-manual");
    let mut watch = Watch::start(&fx, &["--manual"]);
    let first = watch.next_block();
    assert!(first.contains("not yet"), "{first}");
    assert!(first.contains("press Enter to check again"), "{first}");
    fx.write("exercises/ex01-add/src/lib.rs", SOLVED);
    watch.type_line("");
    let second = watch.next_block();
    assert!(second.contains("passed"), "{second}");
    watch.quit();
}

#[test]
fn watch_refuses_unknown_arguments() {
    let fx = Fixture::new("watch-usage");
    let out = fx
        .workbook(&["watch", "--fast"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
