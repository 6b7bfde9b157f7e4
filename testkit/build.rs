//! Builds the library `testkit::limit::deny_caps_library` names, from
//! `preload/deny_userns_caps.rs`, with rustc alone: a preloaded library must
//! be a shared object of its own, not a crate the tests link.
#![allow(clippy::expect_used, clippy::panic)]

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let source = "preload/deny_userns_caps.rs";
    println!("cargo::rerun-if-changed={source}");
    // Elsewhere the workbook stops with one compile_error naming Linux
    // (.ci/run checks that): add no error of our own.
    if env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        return;
    }
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let target = env::var("TARGET").expect("cargo sets TARGET");
    let status = Command::new(rustc)
        .args([
            "--crate-type",
            "cdylib",
            "--edition",
            "2024",
            "--target",
            &target,
        ])
        .args(["-C", "panic=abort", "-C", "opt-level=1", "-o"])
        .arg(out.join("libdeny_userns_caps.so"))
        .arg(source)
        .status()
        .expect("start rustc");
    assert!(status.success(), "rustc could not build {source}");
}
