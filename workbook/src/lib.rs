//! Shared plumbing for the chapters of the namespaces workbook.
//!
//! Every chapter's `main.rs` shows one lesson's system calls. What each of
//! them needs but is not the lesson lives here, once:
//!
//! - [`ns`]: a namespace's identity, the (st_dev, st_ino) pair of its nsfs file;
//! - [`nsfs`]: the ioctls of a namespace file (its owner, its parent);
//! - [`nsfs_handle`]: a namespace's id and file handle, which name it
//!   without keeping it alive (Linux 6.18);
//! - [`userns`]: entering a user namespace first when the learner is not root;
//! - [`error`]: errors that name the call, the errno and what to do;
//! - [`hint`]: that "what to do", which `workbook doctor` prints too;
//! - [`cgroup`]: the cgroup layout, `/proc/PID/cgroup` lines, mount roots;
//! - [`cleanup`]: temporary directories and mounts undone on every path,
//!   Ctrl-C and SIGTERM included;
//! - [`owner`]: names that say which process a directory belongs to, and
//!   whether that process is provably gone;
//! - [`cli`]: `--help`, arguments, exit codes (2 for usage, 1 for refusal);
//! - [`say!`]: the story's lines on stdout, never a panic on a closed pipe;
//! - [`process`]: forking a helper, pipes to synchronise with it, reaping it;
//! - [`sysvipc`]: System V message queues (msgget, msgsnd), which nix lacks;
//! - [`target`]: a helper process parked in new namespaces, to be joined;
//! - [`mountinfo`]: which mount sits on a path, from `/proc/self/mountinfo`;
//! - [`root_cases`]: the command that runs tests' root cases through sudo;
//! - [`normalize`]: turning an example's output into a machine-independent
//!   snapshot that still shows which namespaces are the same.

// Namespaces are a Linux interface: stop here, with one message, rather than
// let every chapter fail with its own wall of missing-symbol errors.
#[cfg(not(target_os = "linux"))]
compile_error!(
    "The namespaces workbook runs only on Linux (5.8 or newer): namespaces, \
     setns(2) and pidfd_open(2) are Linux system calls. Use a Linux machine or VM."
);

#[cfg(target_os = "linux")]
pub mod cgroup;
#[cfg(target_os = "linux")]
pub mod cleanup;
#[cfg(target_os = "linux")]
pub mod cli;
#[cfg(target_os = "linux")]
pub mod error;
#[cfg(target_os = "linux")]
pub mod hint;
#[cfg(target_os = "linux")]
pub mod machine;
#[cfg(target_os = "linux")]
pub mod mountinfo;
pub mod normalize;
#[cfg(target_os = "linux")]
pub mod ns;
#[cfg(target_os = "linux")]
pub mod nsfs;
#[cfg(target_os = "linux")]
pub mod nsfs_handle;
#[cfg(target_os = "linux")]
pub mod owner;
#[cfg(target_os = "linux")]
pub mod process;
pub mod root_cases;
#[cfg(target_os = "linux")]
pub mod say;
#[cfg(target_os = "linux")]
pub mod sysvipc;
#[cfg(target_os = "linux")]
pub mod target;
#[cfg(target_os = "linux")]
pub mod userns;

#[cfg(target_os = "linux")]
pub use error::{Error, Result};
