//! The doctor's text: built whole, then written once, so a closed pipe
//! (`workbook doctor | head`) ends it the conventional way, by SIGPIPE,
//! rather than a panic in the middle of a line.

use std::io::Write;
use std::process::ExitCode;

use workbook::machine::{Cgroup, Facts, LIMITED_TYPES, Propagation, Seccomp};

use super::probe::{As, Refusal};
use super::{Runs, explain};

/// Where a long sentence (a hint) is wrapped.
const WIDTH: usize = 80;

#[derive(Debug, Default)]
pub struct Report {
    text: String,
}

impl Report {
    pub fn line(&mut self, line: &str) {
        self.text.push_str(line);
        self.text.push('\n');
    }

    /// `  what                                         ok`, or refused.
    pub fn tried(&mut self, what: &str, result: &Result<(), Refusal>) {
        let said = match result {
            Ok(()) => "ok".to_owned(),
            Err(r) => format!("refused: {}: {:?}", r.call, r.errno),
        };
        self.line(&format!("  {what:<44} {said}"));
    }

    /// Under a refused call: why, and the fix, indented.
    pub fn why(&mut self, facts: &Facts, who: As, result: &Result<(), Refusal>) {
        if let Err(refusal) = result {
            self.wrapped("      ", &explain(facts, who, refusal));
        }
    }

    pub fn verdict(&mut self, name: &str, runs: &Runs) {
        self.line(&match runs {
            Runs::Will(note) if note.is_empty() => format!("  {name:<26} will run"),
            Runs::Will(note) => format!("  {name:<26} will run ({note})"),
            Runs::OnlyAsRoot(how) => {
                format!("  {name:<26} runs only as root: {how}")
            }
            Runs::Cannot(why) => format!("  {name:<26} cannot run here: {why}"),
        });
    }

    /// `text` in lines of at most [`WIDTH`], each starting with `indent`
    /// (the first with `first`). A `quoted command` is never split.
    fn wrapped_with(&mut self, first: &str, indent: &str, text: &str) {
        let mut line = first.to_owned();
        let mut empty = true;
        for word in crate::hint::words(text) {
            if !empty && line.len() + 1 + word.len() > WIDTH {
                self.line(&line);
                line = indent.to_owned();
                empty = true;
            }
            if !empty {
                line.push(' ');
            }
            line.push_str(&word);
            empty = false;
        }
        self.line(&line);
    }

    pub fn wrapped(&mut self, indent: &str, text: &str) {
        self.wrapped_with(indent, indent, text);
    }

    /// Write it all to stdout. On a closed pipe the process ends by
    /// SIGPIPE, as a shell pipeline expects; another error is said on
    /// stderr, naming the call, and gives exit code 1.
    pub fn emit(&self) -> Result<(), ExitCode> {
        let mut stdout = std::io::stdout().lock();
        let written = stdout
            .write_all(self.text.as_bytes())
            .and_then(|()| stdout.flush());
        match written {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                use nix::sys::signal::{SigHandler, Signal, raise, signal};
                // Safety: SIG_DFL installs no handler of ours; Rust set
                // SIGPIPE to SIG_IGN at start-up, and this restores the
                // default so that raise() ends the process.
                let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
                let _ = raise(Signal::SIGPIPE);
                Err(ExitCode::FAILURE)
            }
            Err(e) => {
                match e.raw_os_error() {
                    // Errno's Display: "ENOSPC: No space left on device".
                    Some(raw) => eprintln!(
                        "error: write(stdout) failed: {}",
                        nix::errno::Errno::from_raw(raw)
                    ),
                    None => eprintln!("error: write(stdout) failed: {e}"),
                }
                Err(ExitCode::FAILURE)
            }
        }
    }

    #[cfg(test)]
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// The facts, one to a line.
pub fn machine(out: &mut Report, f: &Facts) {
    let unknown = || "unknown".to_owned();
    let absent = |v: Option<u32>| v.map_or("absent".to_owned(), |v| v.to_string());
    out.line("This machine");
    let row = |out: &mut Report, name: &str, value: &str| {
        out.line(&format!("  {name:<21} {value}"));
    };
    row(out, "kernel", f.release.as_deref().unwrap_or("unknown"));
    let uid = f.euid.map_or("uid unknown".into(), |uid| match uid {
        0 => "root".to_owned(),
        uid => format!("uid {uid}"),
    });
    let who = match (f.euid, f.cap_sys_admin) {
        (_, true) => format!("{uid}, with CAP_SYS_ADMIN"),
        (Some(0), false) => format!("{uid}, without CAP_SYS_ADMIN"),
        (_, false) => format!("{uid}, not root"),
    };
    let unmapped = match f.uid_mapped {
        Some(false) => ", in a user namespace that maps no uid",
        _ => "",
    };
    row(out, "you", &format!("{who}{unmapped}"));
    let seccomp = match f.seccomp {
        Some(Seccomp::Disabled) => "0 (none)",
        Some(Seccomp::Strict) => "1 (strict)",
        Some(Seccomp::Filter) => "2 (a filter: a container's profile?)",
        None => "unknown",
    };
    row(out, "seccomp", seccomp);
    let chroot = match f.chrooted {
        Some(true) => "yes",
        Some(false) => "no",
        None => "cannot tell (/proc/1/root unreadable); the calls below decide",
    };
    row(out, "chroot", chroot);
    let wsl = f
        .wsl()
        .map_or_else(unknown, |w| if w { "yes" } else { "no" }.into());
    row(out, "WSL", &wsl);
    let propagation = match f.root_propagation {
        Some(Propagation::Shared) => {
            "shared (the examples make it private in their own mount namespace)"
        }
        Some(Propagation::Slave) => "slave (receives mounts, sends none back)",
        Some(Propagation::Private) => "private",
        Some(Propagation::Unbindable) => "unbindable",
        None => "unknown",
    };
    row(out, "/ propagation", propagation);
    let cgroup = match f.cgroup {
        Some(Cgroup::V2) => "v2",
        Some(Cgroup::Hybrid) => {
            "v1, and v2 without controllers at /sys/fs/cgroup/unified"
        }
        Some(Cgroup::V1) => "v1",
        None => "none at /sys/fs/cgroup",
    };
    row(out, "cgroup", cgroup);
    for (name, value, note) in [
        (
            "kernel.unprivileged_userns_clone",
            f.unprivileged_userns_clone,
            "Debian's switch",
        ),
        (
            "kernel.apparmor_restrict_unprivileged_userns",
            f.apparmor_restrict_userns,
            "Ubuntu 23.10+",
        ),
        (
            "kernel.apparmor_restrict_unprivileged_unconfined",
            f.apparmor_restrict_unconfined,
            "Ubuntu 24.04+",
        ),
    ] {
        out.line(&format!("  {name:<48} {} ({note})", absent(value)));
    }
    let limits: Vec<String> = LIMITED_TYPES
        .iter()
        .map(|ty| {
            let limit = f.limit(ty).map_or_else(unknown, |l| l.to_string());
            format!("{ty}={limit}")
        })
        .collect();
    out.wrapped_with(
        "  user.max_*_namespaces ",
        &" ".repeat(24),
        &limits.join(" "),
    );
}

/// What the facts show in the way, each with its fix: the sentences the
/// error hints use ([`workbook::machine::Blocker`]).
pub fn blockers(out: &mut Report, f: &Facts) {
    let found = f.blockers();
    out.line("\nBlockers seen in /proc (the calls tried below decide)");
    if found.is_empty() {
        out.line("  none");
    }
    for blocker in found {
        out.wrapped_with("  - ", "    ", &blocker.to_string());
    }
}
