//! The checks of exercise 23: `cargo test -p ex23-cgroup-relative`.
//!
//! Each kernel case runs in a fresh process, as root and as an unprivileged
//! user: it reads `/proc/PID/cgroup` of itself, its parent and PID 1, moves
//! into a new cgroup namespace, reads them again from inside, and compares
//! every line the kernel shows with your `seen_from` of the lines read
//! before. Where the processes share a cgroup that shows nothing, so the
//! table case holds paths the kernel showed on Linux 6.18 (cgroup v2, `unshare
//! -C` in `/p/a/b`).

use std::process::ExitCode;

use ex23_cgroup_relative as ex;
use nix::sched::CloneFlags;
use testkit::exercise::{self, Case, Outcome, ensure, setup};
use workbook::cgroup::{self, Line};

pub fn main() -> ExitCode {
    exercise::main(
        "ex23",
        &[
            Case::new("matches_the_kernel_from_inside", from_inside),
            Case::new("whole_components_not_text", by_components).once(),
        ],
    )
}

fn read(who: &str) -> Result<Vec<Line>, String> {
    setup(&format!("reading /proc/{who}/cgroup"), cgroup::read(who))
}

fn from_inside() -> Outcome {
    let parent = nix::unistd::getppid().to_string();
    let whos = ["self", parent.as_str(), "1"];
    let before: Vec<Vec<Line>> =
        whos.iter().map(|w| read(w)).collect::<Result<_, _>>()?;
    exercise::isolate(CloneFlags::CLONE_NEWCGROUP)?;
    // The namespace's root, per hierarchy: where this process was.
    let roots = &before[0];
    for (who, lines) in whos.iter().zip(&before) {
        let inside = read(who)?;
        for line in lines {
            let Some(root) = roots.iter().find(|r| r.id == line.id) else {
                continue;
            };
            let Some(shown) = inside.iter().find(|l| l.id == line.id) else {
                continue;
            };
            let answer = ex::seen_from(&root.path, &line.path);
            ensure(answer == shown.path, || {
                format!(
                    "seen_from({:?}, {:?}) returned {answer:?}, but from inside a cgroup \
                     namespace rooted at {:?} the kernel shows /proc/{who}/cgroup's line \
                     \"{}:{}:...\" as {:?}",
                    root.path,
                    line.path,
                    root.path,
                    line.id,
                    line.controllers,
                    shown.path
                )
            })?;
        }
    }
    Ok(())
}

/// Shown by the kernel (Linux 6.18) from a cgroup namespace made in
/// `/p/a/b`: `(cgroup, shown)`.
const SEEN_FROM_P_A_B: [(&str, &str); 6] = [
    ("/p/a/b", "/"),
    ("/p/a/b/inner", "/inner"),
    ("/p/a/bc", "/../bc"),
    ("/p/x", "/../../x"),
    ("/p", "/../.."),
    ("/", "/../../.."),
];

fn by_components() -> Outcome {
    for (cgroup, shown) in SEEN_FROM_P_A_B {
        let answer = ex::seen_from("/p/a/b", cgroup);
        ensure(answer == shown, || {
            let why = match cgroup {
                "/p/a/bc" => {
                    ": /p/a/bc is not below /p/a/b, though its text starts the same; \
                              compare whole components"
                }
                "/p/a/b" => ": the root itself is \"/\"",
                _ => "",
            };
            format!(
                "seen_from(\"/p/a/b\", {cgroup:?}) returned {answer:?}; the kernel shows \
                 {shown:?}{why}"
            )
        })?;
    }
    // From the real root nothing changes.
    let answer = ex::seen_from("/", "/user.slice/x");
    ensure(answer == "/user.slice/x", || {
        format!(
            "seen_from(\"/\", \"/user.slice/x\") returned {answer:?}, not \"/user.slice/x\""
        )
    })
}
