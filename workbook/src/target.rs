//! A target: a helper process parked in namespaces of its own, for a chapter
//! to join.
//!
//! The helper unshares the namespaces asked for, checks they are new, sets its
//! hostname there, says it is ready, and then waits until it is released. The
//! joining chapter (setns through `/proc`, through a pidfd, through a bind
//! mount) then finds a namespace whose hostname it can recognise.

use nix::sched::{CloneFlags, unshare};
use nix::unistd::{Pid, sethostname};

use crate::error::{Context, Error, Result};
use crate::ns::{self, NsId};
use crate::process::{self, Child, Sender};

/// A parked helper process. Release it with [`Target::finish`]; dropped on an
/// error path, it is released and reaped all the same.
#[derive(Debug)]
pub struct Target {
    // Field order is drop order: first close the pipe, which releases the
    // helper, then reap it.
    release: Sender,
    child: Child,
}

impl Target {
    /// Fork a helper that runs unshare(`flags`), which must include
    /// CLONE_NEWUTS, sets `hostname` in its new UTS namespace, prints one
    /// line saying so, and parks. Returns once the helper is ready.
    pub fn spawn(flags: CloneFlags, hostname: &str) -> Result<Target> {
        debug_assert!(flags.contains(CloneFlags::CLONE_NEWUTS));
        // The helper's namespaces before unshare: to prove they are new. In
        // the order of the flags in the call, so that the line it prints
        // lists them in the order the joiner's lines do (`uts` before `net`).
        let before: Vec<NsId> = flags
            .iter()
            .flat_map(ns::types_of)
            .map(NsId::current)
            .collect::<Result<_>>()?;
        let (ready_tx, ready_rx) = process::channel()?;
        let (release_tx, release_rx) = process::channel()?;

        let child = process::fork_child(&[&release_tx, &ready_rx], move || {
            unshare(flags).call(|| format!("unshare({})", ns::flag_names(flags)))?;
            let mut after = Vec::new();
            for old in &before {
                let new = NsId::current(old.ns_type)?;
                // Never sethostname in a namespace we did not just make.
                ns::ensure_new(*old, new)?;
                after.push(new.to_string());
            }
            sethostname(hostname).call(|| format!("sethostname(\"{hostname}\")"))?;
            crate::say!(
                "process {} (target): unshare({}) -> {}; hostname \"{hostname}\"",
                std::process::id(),
                ns::flag_names(flags),
                after.join(" ")
            );
            ready_tx.notify()?;
            // Parked until the parent writes or closes its end.
            release_rx.wait()?;
            Ok(())
        })?;
        // `fork_child` dropped our copies of ready_tx and release_rx, so if
        // the helper fails before notifying, this read sees end-of-file.
        if !ready_rx.wait()? {
            child.wait()?;
            return Err(Error::refused("the target process ended early", ""));
        }
        Ok(Target {
            release: release_tx,
            child,
        })
    }

    pub fn pid(&self) -> Pid {
        self.child.pid()
    }

    /// Let the helper exit, and reap it.
    pub fn finish(self) -> Result<()> {
        let Target { release, child } = self;
        drop(release);
        child.wait()
    }
}
