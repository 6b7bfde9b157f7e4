//! Where the tests find the workspace: its root, the chapter packages in
//! `chapters/`, and the binaries `cargo test` at the root built next to the
//! running test (target/<profile>/).

use std::path::{Path, PathBuf};

use crate::skip;

/// The workspace's root: testkit's parent folder.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit has a parent folder")
        .to_path_buf()
}

/// The chapter packages, in crate order: each folder of `chapters/` with a
/// Cargo.toml. A folder's name is its package's and its binary's.
pub fn chapters() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("chapters"))
        .expect("read chapters/")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The arguments a chapter's example needs to tell its whole story, for the
/// tests that run every chapter: ch16's container runs a command (one the
/// container's root provides); every other example needs none.
pub fn story_args(chapter: &str) -> &'static [&'static str] {
    match chapter {
        "ch16-container" => &["/bin/true"],
        _ => &[],
    }
}

/// target/<profile>/: two levels above the running test binary, which
/// cargo puts in target/<profile>/deps/.
pub fn binary_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("the test binary is in target/<profile>/deps/")
        .to_path_buf()
}

/// The binary `name` in [`binary_dir`], or a skip ([`skip()`]: a failure
/// under CI) when it is not there. `cargo test` at the root builds every
/// package before it runs any test, so there it is built and current;
/// `cargo test -p <one package>` may not have built it.
pub fn built(name: &str) -> Option<PathBuf> {
    let path = binary_dir().join(name);
    match path.exists() {
        true => Some(path),
        false => skip(&format!(
            "{} is not built; run `cargo test` at the workspace root, which \
             builds every package",
            path.display()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chapters_are_the_packages_in_chapters_in_crate_order() {
        let names = chapters();
        assert!(names.len() >= 6, "{names:?}");
        assert_eq!(names[0], "ch01-what-is-a-namespace");
        assert!(names.is_sorted(), "{names:?}");
        for name in &names {
            let manifest = root().join("chapters").join(name).join("Cargo.toml");
            let text = std::fs::read_to_string(&manifest).unwrap();
            assert!(text.contains(&format!("name = \"{name}\"")), "{name}");
        }
    }

    #[test]
    fn the_binary_dir_holds_this_test_binary_in_deps() {
        let exe = std::env::current_exe().unwrap();
        assert_eq!(exe.parent(), Some(binary_dir().join("deps").as_path()));
    }
}
