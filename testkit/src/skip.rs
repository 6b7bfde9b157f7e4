//! The skip policy: a case that cannot run on this machine says why and is
//! not counted as passed; under `CI=true` it fails, since CI must run all.

use std::cell::RefCell;

/// True under `CI=true` (or `CI=1`): nothing may be skipped.
pub fn in_ci() -> bool {
    matches!(std::env::var("CI").as_deref(), Ok("true" | "1"))
}

thread_local! {
    /// Why the case running on this thread skipped, if it did: a test
    /// runs on one thread from start to end, and [`crate::suite`] reads
    /// this when it returns, to show the case as `ignored (why)`.
    static SKIPPED: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Skip a case that cannot run on this machine, saying why; under CI, fail.
/// Returns `None`, for the case to return early.
pub fn skip<T>(why: &str) -> Option<T> {
    if in_ci() {
        panic!("CI=true, and this case cannot run here: {why}");
    }
    SKIPPED.with(|s| {
        s.borrow_mut().get_or_insert_with(|| why.to_owned());
    });
    // Without the suite (a test under libtest's own harness, which
    // captures eprintln! of a passing test), straight to stderr, or no one
    // would see it.
    #[cfg(not(feature = "suite"))]
    {
        use std::io::Write;
        let test = std::thread::current().name().unwrap_or("a test").to_owned();
        let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
    }
    None
}

/// The reason the case that just ran on this thread skipped, if it did;
/// clears it for the next case.
#[cfg(feature = "suite")]
pub(crate) fn take_skipped() -> Option<String> {
    SKIPPED.with(|s| s.borrow_mut().take())
}
