//! The checks of exercise 1: `cargo test -p ex01-ns-identity`.
//!
//! Each case runs your code in a fresh process, as root and as an
//! unprivileged user; the checks compare your answers with what stat(2) of
//! `/proc/PID/ns/*` shows the tests themselves.

use std::path::Path;
use std::process::ExitCode;

use ex01_ns_identity as ex;
use nix::sched::{CloneFlags, unshare};
use testkit::exercise::{
    self, Case, Outcome, Parked, Probe, call, ensure, ns_of, report,
};

const TYPES: [&str; 4] = ["mnt", "net", "user", "uts"];

pub fn main() -> ExitCode {
    exercise::main(
        "ex01",
        &[
            Case::new("identity_is_st_dev_and_st_ino", identities)
                .as_is()
                .check(same_as_stat),
            Case::new("same_namespace_compares_identities", compares)
                .check(right_answers),
            Case::new("a_missing_file_is_an_error", missing).once(),
        ],
    )
}

fn identities() -> Outcome {
    for ns_type in TYPES {
        let path = format!("/proc/self/ns/{ns_type}");
        let id = call(&format!("identity({path})"), ex::identity(Path::new(&path)))?;
        report(ns_type, format!("{} {}", id.dev, id.ino));
    }
    Ok(())
}

fn same_as_stat(p: &Probe) -> Outcome {
    for ns_type in TYPES {
        let kernel = ns_of(p.child, ns_type)?;
        let answer = p.get(ns_type)?;
        let expected = format!("{} {}", kernel.dev, kernel.ino);
        ensure(answer == expected, || {
            format!(
                "identity(/proc/self/ns/{ns_type}) gave (dev, ino) ({}), but stat(2) of that \
                 file gives ({})",
                answer.replace(' ', ", "),
                expected.replace(' ', ", ")
            )
        })?;
    }
    Ok(())
}

/// The questions asked, as (key, file a, file b); `HELPER` stands for a
/// process in a new UTS namespace, and nothing else new.
const QUESTIONS: [(&str, &str, &str); 4] = [
    ("uts_self_self", "/proc/self/ns/uts", "/proc/self/ns/uts"),
    (
        "uts_self_helper",
        "/proc/self/ns/uts",
        "/proc/HELPER/ns/uts",
    ),
    (
        "net_self_helper",
        "/proc/self/ns/net",
        "/proc/HELPER/ns/net",
    ),
    ("uts_net_self", "/proc/self/ns/uts", "/proc/self/ns/net"),
];

fn compares() -> Outcome {
    let helper = Parked::spawn(|| {
        exercise::setup("unshare(CLONE_NEWUTS)", unshare(CloneFlags::CLONE_NEWUTS))
    })?;
    report("helper", helper.pid());
    for (key, a, b) in QUESTIONS {
        let pid = helper.pid().to_string();
        let (a, b) = (a.replace("HELPER", &pid), b.replace("HELPER", &pid));
        let same = call(
            &format!("same_namespace({a}, {b})"),
            ex::same_namespace(Path::new(&a), Path::new(&b)),
        )?;
        report(key, same);
    }
    exercise::park();
    helper.finish()
}

fn right_answers(p: &Probe) -> Outcome {
    let helper = p.pid("helper")?.to_string();
    let child = p.child.to_string();
    for (key, a, b) in QUESTIONS {
        // The same files, as the tests see them.
        let file = |path: &str| {
            let path = path.replace("self", &child).replace("HELPER", &helper);
            let mut parts = path.rsplit('/');
            let ns_type = parts.next().unwrap_or("").to_owned();
            let pid = parts.nth(1).unwrap_or("").parse().unwrap_or(0);
            ns_of(nix::unistd::Pid::from_raw(pid), &ns_type)
        };
        let truth = file(a)? == file(b)?;
        let answer = p.get(key)?;
        ensure(answer == truth.to_string(), || {
            format!(
                "same_namespace({a}, {b}) said {answer}, but the kernel says {truth}",
                a = a.replace(
                    "HELPER",
                    &format!("{helper} (a process in a new UTS namespace)")
                ),
            )
        })?;
    }
    Ok(())
}

fn missing() -> Outcome {
    let path = Path::new("/proc/self/ns/no-such-namespace");
    ensure(ex::identity(path).is_err(), || {
        format!(
            "identity({}) returned Ok for a file that does not exist",
            path.display()
        )
    })?;
    ensure(
        ex::same_namespace(path, Path::new("/proc/self/ns/uts")).is_err(),
        || {
            format!(
                "same_namespace({}, ..) returned Ok for a file that does not exist",
                path.display()
            )
        },
    )
}
