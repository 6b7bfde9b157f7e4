//! The skip policy: a case that cannot run on this machine says why and is
//! not counted as passed; under `CI=true` it fails, since CI must run all.

use std::cell::RefCell;
use std::io::Write;

/// True under `CI=true` (or `CI=1`): nothing may be skipped.
pub fn in_ci() -> bool {
    matches!(std::env::var("CI").as_deref(), Ok("true" | "1"))
}

thread_local! {
    /// While a case runs under [`crate::suite`] on this thread: `Some`, and
    /// then why it skipped, if it did. A case runs on one thread from start
    /// to end.
    static SUITE_CASE: RefCell<Option<Option<String>>> = const { RefCell::new(None) };
}

/// Skip a case that cannot run on this machine, saying why; under CI, fail.
/// Returns `None`, for the case to return early.
///
/// Under [`crate::suite`] the case then shows as `ignored (why)`. Under
/// libtest's own harness, which has no run-time ignore and captures the
/// eprintln! of a passing test, the reason goes straight to stderr.
pub fn skip<T>(why: &str) -> Option<T> {
    if in_ci() {
        panic!("CI=true, and this case cannot run here: {why}");
    }
    let in_suite = SUITE_CASE.with(|case| match &mut *case.borrow_mut() {
        Some(skipped) => {
            skipped.get_or_insert_with(|| why.to_owned());
            true
        }
        None => false,
    });
    if !in_suite {
        let test = std::thread::current().name().unwrap_or("a test").to_owned();
        let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
    }
    None
}

/// Run `case` on this thread; returns why it skipped, if it did.
#[cfg(feature = "suite")]
pub(crate) fn run_case(case: fn()) -> Option<String> {
    /// Ends the case's record, also when the case panics.
    struct Done;
    impl Drop for Done {
        fn drop(&mut self) {
            SUITE_CASE.with(|c| c.borrow_mut().take());
        }
    }
    SUITE_CASE.with(|c| *c.borrow_mut() = Some(None));
    let _done = Done;
    case();
    SUITE_CASE.with(|c| c.borrow_mut().take()).flatten()
}
