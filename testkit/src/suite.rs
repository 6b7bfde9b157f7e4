//! A test file's `main`, for the chapters: libtest's command line and
//! output (`test as_root ... ok`, `test result: ...`), except that a case
//! that skipped (see [`crate::skip`]) shows as `ignored (why)` and is
//! counted as ignored, not as passed. libtest itself has no way to ignore a
//! test once it runs; libtest-mimic (`Trial::ignorable_test`) has.
//!
//! A test file sets `harness = false` for itself in its package's
//! `Cargo.toml` and names its cases once:
//!
//! ```text
//! testkit::cases!(as_root, unprivileged, help_exits_0);
//! ```

use libtest_mimic::{Arguments, Completion, Trial};

use crate::skip::run_case;

/// Run `cases` (name, function) as libtest would, with the command line
/// cargo passed (filters, `--test-threads`, `--list`...), then exit with
/// libtest's status: 101 if a case failed.
pub fn run(cases: &[(&'static str, fn())]) -> ! {
    let args = Arguments::from_args();
    let trials = cases
        .iter()
        .map(|&(name, case)| {
            Trial::ignorable_test(name, move || {
                // libtest-mimic catches a panic of the case as a failure.
                Ok(match run_case(case) {
                    Some(why) => Completion::ignored_with(why),
                    None => Completion::Completed,
                })
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit()
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
