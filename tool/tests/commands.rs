//! The learner's and the authors' commands, on a fixture workbook and on
//! this one: exit codes (usage errors 2), what they print, what they refuse.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fixture;

use std::process::{Output, Stdio};

use fixture::{Fixture, SOLUTION, STUB};

fn run(mut cmd: std::process::Command) -> Output {
    cmd.stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running workbook: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn bare_hint_says_how_to_use_it_and_exits_2() {
    let fx = Fixture::new("hint");
    let out = run(fx.workbook(&["hint"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("Usage: cargo workbook hint EXERCISE [N]"));
}

#[test]
fn hint_out_of_range_or_unknown_is_a_usage_error() {
    let fx = Fixture::new("hint-range");
    for args in [
        &["hint", "ex01", "3"][..],
        &["hint", "ex01", "0"],
        &["hint", "ex01", "x"],
        &["hint", "ex09"],
        &["hint", "ex01", "1", "extra"],
    ] {
        let out = run(fx.workbook(args));
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let out = run(fx.workbook(&["hint", "1", "2"]));
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("hint 2 of 2:\n  two\n"), "{stdout}");
    assert!(stdout.contains("cargo workbook solution ex01"), "{stdout}");
}

#[test]
fn unknown_commands_are_usage_errors() {
    let fx = Fixture::new("usage");
    for args in [
        &[][..],
        &["frobnicate"],
        &["progress", "x"],
        &["dev"],
        &["dev", "x"],
    ] {
        let out = run(fx.workbook(args));
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    let out = run(fx.workbook(&["--help"]));
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("cargo test-root"));
}

#[test]
fn generate_keeps_a_learners_work_unless_forced() {
    let fx = Fixture::new("generate");
    // Half done: a todo!() is still there, so it is no finished exercise,
    // but it is work all the same.
    let work = "pub fn add(a: u32, b: u32) -> u32 {\n    let sum = a; // mine\n    todo!()\n}\n";
    fx.write("exercises/ex01-add/src/lib.rs", work);
    let out = run(fx.workbook(&["dev", "generate"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("kept exercises/ex01-add/src/lib.rs"));
    assert_eq!(fx.read("exercises/ex01-add/src/lib.rs"), work);
    // The author's other files are written all the same.
    assert!(
        fx.read("exercises/ex01-add/Cargo.toml")
            .contains("name = \"ex01-add\"")
    );
    let check = run(fx.workbook(&["dev", "generate", "--check"]));
    assert_eq!(check.status.code(), Some(1));
    let forced = run(fx.workbook(&["dev", "generate", "--force"]));
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced.stderr));
    assert_eq!(fx.read("exercises/ex01-add/src/lib.rs"), STUB);
    let check = run(fx.workbook(&["dev", "generate", "--check"]));
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
}

#[test]
fn reset_asks_and_puts_the_stub_back() {
    let fx = Fixture::new("reset");
    fx.write("exercises/ex01-add/src/lib.rs", "half done\n");
    // No terminal, no --yes: nothing changes.
    let out = run(fx.workbook(&["reset", "ex01"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("--yes"));
    assert_eq!(fx.read("exercises/ex01-add/src/lib.rs"), "half done\n");
    let out = run(fx.workbook(&["reset", "ex01", "--yes"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(fx.read("exercises/ex01-add/src/lib.rs"), STUB);
    let again = run(fx.workbook(&["reset", "ex01", "--yes"]));
    assert!(text(&again.stdout).contains("stub already"));
    assert_eq!(run(fx.workbook(&["reset"])).status.code(), Some(2));
}

#[test]
fn solution_waits_for_a_pass_or_a_yes() {
    let fx = Fixture::new("solution");
    // The fixture's exercise does not pass (it is no cargo package), and
    // without a terminal nobody confirms: no solution.
    let out = run(fx.workbook(&["solution", "ex01"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(!text(&out.stdout).contains("a + b"));
    assert!(
        text(&out.stderr).contains("The check, not the solution, is the teacher")
    );
    let out = run(fx.workbook(&["solution", "ex01", "--yes"]));
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains(SOLUTION));
}

#[test]
fn dev_list_is_the_catalog_for_scripts() {
    let out = run(fixture::workbook(
        &workbook_tool::cli::root(),
        &["dev", "list"],
    ));
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    let first = stdout.lines().next().unwrap_or("");
    assert_eq!(
        first.split('\t').nth(1),
        Some("ex01-ns-identity"),
        "{stdout}"
    );
}

/// Issue 7 §5 for the learner's command too: a reader that left ends it by
/// SIGPIPE, quietly; a full disk is one `write(stdout)` error and exit 1;
/// never a panic.
#[test]
fn a_closed_or_full_stdout_ends_it_without_a_panic() {
    use std::os::unix::process::ExitStatusExt;
    let fx = Fixture::new("stdout");
    for args in [&["--help"][..], &["hint", "ex01"], &["dev", "list"]] {
        // A pipe whose read end is closed before the command starts: its
        // first write meets EPIPE, whatever the timing.
        // O_CLOEXEC: a child another test forks meanwhile must not keep the
        // read end open (the write would then succeed).
        let (read_end, write_end) =
            nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).expect("pipe2");
        drop(read_end);
        let mut cmd = fx.workbook(args);
        cmd.stdout(Stdio::from(write_end)).stderr(Stdio::piped());
        let out = run(cmd);
        assert_eq!(
            out.status.signal(),
            Some(libc::SIGPIPE),
            "{args:?} to a closed pipe: {:?}\n{}",
            out.status,
            text(&out.stderr)
        );
        assert!(out.stderr.is_empty(), "{args:?}: {}", text(&out.stderr));

        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("open /dev/full");
        let mut cmd = fx.workbook(args);
        cmd.stdout(Stdio::from(full));
        let out = run(cmd);
        let stderr = text(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?} to /dev/full: {stderr}"
        );
        assert!(
            stderr.starts_with("error: write(stdout) failed: ENOSPC"),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

/// The book's maps are what the committed snapshots draw (CI runs this).
#[test]
fn the_books_maps_match_their_snapshots() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let out = run(fixture::workbook(&root, &["dev", "maps", "--check"]));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}\nrun `cargo workbook dev maps`, then look at the maps",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("map-ch04-join-proc.svg: up to date"));
}

/// `dev maps --check` fails on a map that differs, and changes nothing;
/// `dev maps` writes it.
#[test]
fn dev_maps_check_fails_on_a_stale_map() {
    let fx = Fixture::new("maps");
    let real = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("chapters/ch04-join-proc/tests/snapshots/ch04__root.snap");
    for dir in ["chapters/ch04-join-proc/tests/snapshots", "book/src/images"] {
        std::fs::create_dir_all(fx.path(dir)).unwrap();
    }
    fx.write(
        "chapters/ch04-join-proc/tests/snapshots/ch04__root.snap",
        &std::fs::read_to_string(real).unwrap(),
    );
    let svg = "book/src/images/map-ch04-join-proc.svg";
    fx.write(svg, "<svg>stale</svg>\n");
    let out = run(fx.workbook(&["dev", "maps", "--check", "ch04"]));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("map-ch04-join-proc.svg: differs"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(fx.read(svg), "<svg>stale</svg>\n", "--check wrote");
    let out = run(fx.workbook(&["dev", "maps", "ch04"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(fx.read(svg).contains("setns()"));
    let out = run(fx.workbook(&["dev", "maps", "--check", "ch04"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // A chapter with no map, an unknown flag: usage errors.
    for args in [&["dev", "maps", "ch99"][..], &["dev", "maps", "--frob"]] {
        assert_eq!(run(fx.workbook(args)).status.code(), Some(2), "{args:?}");
    }
}

/// `map CHAPTER` runs `cargo run -q -p <chapter> -- ARGS` and maps what it
/// printed; a failed example still shows its map, and exits 1.
#[test]
fn map_runs_the_chapter_through_cargo() {
    let fx = Fixture::new("map");
    std::fs::create_dir_all(fx.path("chapters/ch04-join-proc")).unwrap();
    fx.write(
        "story",
        "process 41 (joiner): uts:[4026531838]; hostname \"h\"\n\
         process 42 (target): unshare(CLONE_NEWUTS) -> uts:[4026532247]\n\
         process 41 (joiner): setns(uts_fd, CLONE_NEWUTS) -> uts:[4026532247]\n",
    );
    let cargo = fx.path("cargo");
    fx.write(
        "cargo",
        &format!(
            "#!/bin/sh\necho \"$*\" >'{log}'\ncat '{story}'\nexit ${{STATUS:-0}}\n",
            log = fx.path("cargo.log").display(),
            story = fx.path("story").display()
        ),
    );
    std::fs::set_permissions(
        &cargo,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let out = run({
        let mut cmd = fx.workbook(&["map", "ch04", "--", "a", "b"]);
        cmd.env("CARGO", &cargo);
        cmd
    });
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(fx.read("cargo.log"), "run -q -p ch04-join-proc -- a b\n");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("<P1> (joiner)  uts:[A] (line 1)")
            && stdout.contains("uts:[A] -> uts:[B] (line 3, setns())")
            && stdout.contains("uts:[B]    <P2> (2), <P1> (3)  shared"),
        "{stdout}"
    );
    let out = run({
        let mut cmd = fx.workbook(&["map", "ch04-join-proc"]);
        cmd.env("CARGO", &cargo).env("STATUS", "1");
        cmd
    });
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("setns()"));
    for args in [
        &["map"][..],
        &["map", "ch99"],
        &["map", "--svg"],
        &["map", "-", "--", "x"],
        &["map", "ch04", "ch05"],
        &["map", "--frob", "ch04"],
    ] {
        let out = run(fx.workbook(args));
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let out = run(fx.workbook(&["map", "--help"]));
    assert!(text(&out.stdout).contains("Usage: cargo workbook map CHAPTER"));
}
