//! A test file's `main`, for the chapters: libtest's command line and
//! output (`test as_root ... ok`, `test result: ...`), except that a case
//! that skipped (see [`crate::skip`]) shows as `ignored (why)` and is
//! counted as ignored, not as passed. libtest itself has no way to ignore a
//! test once it runs.
//!
//! A test file sets `harness = false` for itself in its package's
//! `Cargo.toml` and names its cases once:
//!
//! ```text
//! testkit::cases!(as_root, unprivileged, help_exits_0);
//! ```
//!
//! Written here rather than taken from libtest-mimic: that crate brings
//! clap and syn, which were a tenth of the learner's first `cargo test`.
//! What cargo and a learner pass is understood: name filters, `--exact`,
//! `--skip`, `--list` (with `--format terse`, as IDEs and nextest ask),
//! `--ignored`, `--include-ignored`, `-q`/`--quiet`, `--test-threads N`
//! (or `RUST_TEST_THREADS`); `--nocapture`, `--show-output`, `--color` and
//! `--format` are accepted and change nothing, since cases' output is not
//! captured. Anything else is refused, with exit status 101 as libtest's.

use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crate::skip::run_case;

/// The command line, as libtest reads it.
#[derive(Debug, Default)]
struct Args {
    filters: Vec<String>,
    skip: Vec<String>,
    exact: bool,
    list: bool,
    terse: bool,
    quiet: bool,
    /// `--ignored`: only the cases marked ignored, and none is.
    only_ignored: bool,
    threads: Option<usize>,
}

fn parse(mut argv: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut args = Args::default();
    let value = |argv: &mut dyn Iterator<Item = String>, flag: &str| {
        argv.next().ok_or_else(|| format!("{flag} needs a value"))
    };
    while let Some(arg) = argv.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, v)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(v.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        let take = |argv: &mut dyn Iterator<Item = String>| match &inline {
            Some(v) => Ok(v.clone()),
            None => value(argv, &flag),
        };
        match flag.as_str() {
            "--exact" => args.exact = true,
            "--list" => args.list = true,
            "-q" | "--quiet" => args.quiet = true,
            "--ignored" => args.only_ignored = true,
            "--include-ignored" | "--nocapture" | "--show-output" => {}
            "--skip" => args.skip.push(take(&mut argv)?),
            "--format" => args.terse = take(&mut argv)? == "terse",
            "--color" | "-Z" => {
                take(&mut argv)?;
            }
            "--test-threads" => {
                let n = take(&mut argv)?;
                args.threads =
                    Some(n.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                        format!("--test-threads {n}: not a positive number")
                    })?);
            }
            other if other.starts_with('-') => {
                return Err(format!("unknown option {other}"));
            }
            _ => args.filters.push(arg),
        }
    }
    Ok(args)
}

impl Args {
    /// Whether the case `name` runs, as libtest decides: any filter matches
    /// (a substring, or the whole name with `--exact`), no `--skip` does.
    fn selects(&self, name: &str) -> bool {
        let matches = |filter: &String| {
            if self.exact {
                name == filter
            } else {
                name.contains(filter.as_str())
            }
        };
        (self.filters.is_empty() || self.filters.iter().any(matches))
            && !self.skip.iter().any(matches)
            && !self.only_ignored
    }
}

/// How one case ended.
enum Outcome {
    Passed,
    Ignored(String),
    Failed(String),
}

/// Run `cases` (name, function) as libtest would, with the command line
/// cargo passed, then exit with libtest's status: 101 if a case failed.
pub fn run(cases: &[(&'static str, fn())]) -> ! {
    let args = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(why) => {
            eprintln!("error: {why}");
            std::process::exit(101);
        }
    };
    let chosen: Vec<_> = cases
        .iter()
        .filter(|(name, _)| args.selects(name))
        .collect();
    let mut out = std::io::stdout().lock();
    if args.list {
        for (name, _) in &chosen {
            let _ = writeln!(out, "{name}: test");
        }
        if !args.terse {
            let _ = writeln!(out, "\n{} tests, 0 benchmarks", chosen.len());
        }
        std::process::exit(0);
    }
    let _ = writeln!(
        out,
        "\nrunning {} test{}",
        chosen.len(),
        if chosen.len() == 1 { "" } else { "s" }
    );
    drop(out);

    let width = chosen.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    let threads = args
        .threads
        .or_else(|| std::env::var("RUST_TEST_THREADS").ok()?.parse().ok())
        .or_else(|| std::thread::available_parallelism().ok().map(usize::from))
        .unwrap_or(1)
        .clamp(1, chosen.len().max(1));
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(&str, Outcome)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while let Some((name, case)) =
                    chosen.get(next.fetch_add(1, Ordering::SeqCst))
                {
                    let outcome = run_one(*case);
                    report(&args, name, width, &outcome);
                    results
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .push((name, outcome));
                }
            });
        }
    });
    let results = results
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    summary(&results, cases.len() - chosen.len(), started, args.quiet)
}

/// One case on this thread: passed, ignored (it skipped) or failed (it
/// panicked; the panic's message).
fn run_one(case: fn()) -> Outcome {
    match catch_unwind(AssertUnwindSafe(|| run_case(case))) {
        Ok(None) => Outcome::Passed,
        Ok(Some(why)) => Outcome::Ignored(why),
        Err(payload) => Outcome::Failed(
            payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(a panic without a message)".to_owned()),
        ),
    }
}

/// The case's line as it ends: `test name ... ok`, or one character with
/// `--quiet`. One write, so that threads' lines do not mix.
fn report(args: &Args, name: &str, width: usize, outcome: &Outcome) {
    let line = match (args.quiet, outcome) {
        (true, Outcome::Passed) => ".".to_owned(),
        (true, Outcome::Ignored(_)) => "i".to_owned(),
        (true, Outcome::Failed(_)) => "F".to_owned(),
        (false, Outcome::Passed) => format!("test {name:<width$} ... ok\n"),
        (false, Outcome::Ignored(why)) => {
            format!("test {name:<width$} ... ignored ({why})\n")
        }
        (false, Outcome::Failed(_)) => format!("test {name:<width$} ... FAILED\n"),
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(line.as_bytes());
    let _ = out.flush();
}

/// The failures, then `test result: ...`; exits 101 if a case failed.
fn summary(
    results: &[(&str, Outcome)],
    filtered: usize,
    started: Instant,
    quiet: bool,
) -> ! {
    let count =
        |f: fn(&Outcome) -> bool| results.iter().filter(|(_, o)| f(o)).count();
    let passed = count(|o| matches!(o, Outcome::Passed));
    let ignored = count(|o| matches!(o, Outcome::Ignored(_)));
    let failed: Vec<_> = results
        .iter()
        .filter_map(|(name, o)| match o {
            Outcome::Failed(why) => Some((*name, why)),
            _ => None,
        })
        .collect();
    let mut text = String::new();
    if quiet {
        text.push('\n');
    }
    if !failed.is_empty() {
        text.push_str("\nfailures:\n\n");
        for (name, why) in &failed {
            text.push_str(&format!("---- {name} ----\ntest panicked: {why}\n\n"));
        }
        text.push_str("\nfailures:\n");
        for (name, _) in &failed {
            text.push_str(&format!("    {name}\n"));
        }
    }
    text.push_str(&format!(
        "\ntest result: {}. {passed} passed; {} failed; {ignored} ignored; 0 measured; \
         {filtered} filtered out; finished in {:.2}s\n\n",
        if failed.is_empty() { "ok" } else { "FAILED" },
        failed.len(),
        started.elapsed().as_secs_f64()
    ));
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    std::process::exit(if failed.is_empty() { 0 } else { 101 })
}

/// `fn main` for a test file: its cases, each a `fn()` of the file, run by
/// [`run`](crate::suite::run).
#[macro_export]
macro_rules! cases {
    ($($case:ident),+ $(,)?) => {
        fn main() {
            $crate::suite::run(&[$((stringify!($case), $case as fn())),+])
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &[&str]) -> Result<Args, String> {
        parse(line.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn filters_select_as_libtest_does() {
        let a = args(&["root", "--skip", "pid"]).unwrap();
        assert!(a.selects("own_target_as_root"));
        assert!(!a.selects("pid_as_root"));
        assert!(!a.selects("help_exits_0"));
        let exact = args(&["--exact", "as_root"]).unwrap();
        assert!(exact.selects("as_root"));
        assert!(!exact.selects("own_target_as_root"));
        assert!(args(&[]).unwrap().selects("anything"));
        assert!(!args(&["--ignored"]).unwrap().selects("anything"));
    }

    #[test]
    fn options_with_values_and_refusals() {
        let a = args(&["--test-threads=3", "--format", "terse", "--list", "-q"])
            .unwrap();
        assert_eq!(a.threads, Some(3));
        assert!(a.terse && a.list && a.quiet);
        assert_eq!(args(&["--test-threads", "2"]).unwrap().threads, Some(2));
        assert!(args(&["--test-threads", "0"]).is_err());
        assert!(args(&["--test-threads"]).is_err());
        assert!(args(&["--bogus"]).unwrap_err().contains("--bogus"));
        assert!(
            args(&["--nocapture", "--color", "never", "--include-ignored"]).is_ok()
        );
    }
}
