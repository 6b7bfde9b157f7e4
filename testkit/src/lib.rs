//! Test plumbing for the chapters: run an example against the real kernel as
//! root or as an unprivileged user, normalise its output for a snapshot, read
//! the facts a structural assertion compares, and check the host is unchanged.
//!
//! - [`host`]: the host check, written once: each run gets a directory of its
//!   own ([`RunDir`], the examples' `TMPDIR`) and is judged only on it and on
//!   the host's hostname ([`HostState`], [`on_host`]); what a killed test
//!   process left is removed by the next ([`remove_leftovers`]).
//! - [`skip()`]: a case that cannot run here (the root case when the tests are
//!   not root, the unprivileged case where the kernel blocks user namespaces)
//!   says why and is not counted as passed; under `CI=true` it fails.
//! - `suite` (feature `suite`): a chapter test file's `main` (`cases!`):
//!   libtest's output, with a skipped case shown as `ignored (why)`.
//! - `run`: [`Example`], run as a [`User`]; `target`: [`ExternalTarget`], a
//!   process for an example to join; `cli`: the `--help` and usage-error
//!   contract; `text`: reading what an example printed.
//! - [`PublicCopy`]: a binary copied where uid 65534 can run it.
//! - [`workspace`]: the workspace's root, its chapter packages and the
//!   binaries built next to the running test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli;
pub mod exercise;
pub mod host;
pub mod limit;
mod public_copy;
mod run;
mod run_dir;
mod skip;
#[cfg(feature = "suite")]
pub mod suite;
mod target;
mod text;
pub mod workspace;

pub use cli::{assert_help, assert_usage_error};
pub use host::{HostState, RunDir, host_hostname, host_ns, on_host, temp_entries};
pub use public_copy::{PublicCopy, copy_executable};
pub use run::{Example, Prepared, Ran, User};
pub use run_dir::remove_leftovers;
pub use skip::{in_ci, skip};
pub use target::ExternalTarget;
pub use text::{line_with, ns_on_line, quoted_after};
