//! The one command that runs tests' root cases for a learner without a
//! root shell. Every "needs root" message names it from here.
//!
//! `cargo test-root` is an alias in `.cargo/config.toml`: `cargo test` with
//! cargo's runner setting (`target.<cfg>.runner`) set to `sudo -E` for that
//! command only. Cargo builds as the learner, so `target/` gets no
//! root-owned files, and starts each test binary by its absolute path
//! through sudo, so sudo's `secure_path` (which drops `~/.cargo/bin`) does
//! not matter.

/// `cargo test-root`, followed by cargo test's own arguments
/// (`cargo test-root -p ex03-unshare-uts`).
pub const COMMAND: &str = "cargo test-root";
