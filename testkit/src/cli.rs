//! The command-line contract every example keeps: `--help` exits 0 with the
//! usage on stdout; a usage error exits 2 with the error and the usage on
//! stderr, having run nothing.

use crate::Example;

/// The example named by the calling package: `example!()` in
/// `chapters/ch04-join-proc/tests/` is `ch04-join-proc`'s binary.
#[macro_export]
macro_rules! example {
    () => {
        $crate::Example::new(env!(concat!("CARGO_BIN_EXE_", env!("CARGO_PKG_NAME"))))
    };
}

/// `--help` exits 0 and stdout starts with `usage`; returns stdout.
pub fn assert_help(example: &Example, usage: &str) -> String {
    let ran = example.run_plain(&["--help"]);
    let out = ran.success().to_owned();
    assert!(out.starts_with(usage), "expected {usage:?} first:\n{out}");
    out
}

/// `args` are a usage error: exit 2, `message` and the usage on stderr,
/// nothing on stdout.
pub fn assert_usage_error(example: &Example, args: &[&str], message: &str) {
    let ran = example.run_plain(args);
    let err = ran.failure(2);
    assert!(err.contains(message), "{args:?}: {err}");
    assert!(err.contains("Usage:"), "{args:?}: {err}");
    assert!(
        ran.stdout.is_empty(),
        "{args:?}: nothing ran: {}",
        ran.stdout
    );
}
