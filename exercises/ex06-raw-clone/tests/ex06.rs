//! The checks of exercise 6: `cargo test -p ex06-raw-clone`.
//!
//! `stack_top` is checked on blocks of several sizes and alignments. For
//! `run_job`, a fresh process (root, and an unprivileged user) first moves
//! into a throwaway UTS namespace of its own, so that a child left in it
//! cannot rename the host; your child's `then` parks while the tests look at
//! it in /proc: its UTS namespace and the hostname there.

use std::process::ExitCode;

use ex06_raw_clone as ex;
use nix::sched::CloneFlags;
use nix::unistd::getpid;
use testkit::exercise::{
    self, Case, Outcome, Probe, call, ensure, hostname_in, ns_of, report,
};

const NAME: &str = "ex06-ernie";

pub fn main() -> ExitCode {
    exercise::main(
        "ex06",
        &[
            Case::new("stack_top_is_the_aligned_end", tops).once(),
            Case::new("the_child_sets_its_hostname_in_a_new_uts_namespace", runs)
                .check(renamed_in_new_uts),
        ],
    )
}

fn tops() -> Outcome {
    let mut block = vec![0u8; 70_000];
    for (start, len) in [(0, 4096), (1, 4096), (3, 1000), (7, 65_536), (16, 17)] {
        let stack = &mut block[start..start + len];
        let end = stack.as_ptr_range().end as usize;
        let top = ex::stack_top(stack) as usize;
        ensure(top % 16 == 0 && top <= end && end - top < 16, || {
            format!(
                "stack_top of {len} bytes ending at {end:#x} gave {top:#x}; expected the \
                 highest multiple of 16 at or below the end, {:#x}",
                end - end % 16
            )
        })?;
    }
    Ok(())
}

/// The job's `then`: runs in your child, after its sethostname.
fn park_then_42() -> i32 {
    report("child", getpid());
    exercise::park();
    42
}

fn runs() -> Outcome {
    exercise::isolate(CloneFlags::CLONE_NEWUTS)?;
    let job = ex::Job {
        hostname: NAME.into(),
        then: park_then_42,
    };
    let status = call(&format!("run_job({NAME:?})"), ex::run_job(&job))?;
    ensure(status == 42, || {
        format!(
            "run_job returned {status}, but the child exited with status 42 (then's)"
        )
    })
}

fn renamed_in_new_uts(p: &Probe) -> Outcome {
    let child = p.parked;
    ensure(child != p.child, || {
        "`then` ran in the calling process itself, not in a new child".into()
    })?;
    let (theirs, ours) = (ns_of(child, "uts")?, ns_of(p.child, "uts")?);
    ensure(theirs != ours, || {
        format!(
            "the child is in {theirs}, its parent's UTS namespace: clone without CLONE_NEWUTS?"
        )
    })?;
    let seen = hostname_in(child)?;
    ensure(seen == NAME, || {
        format!(
            "the kernel shows hostname {seen:?} in the child's UTS namespace, not {NAME:?}"
        )
    })?;
    let parents = hostname_in(p.child)?;
    let host = testkit::host_hostname();
    ensure(parents == host, || {
        format!(
            "the parent's hostname changed to {parents:?}: the child set it in the wrong namespace"
        )
    })
}
