//! `watch [--manual]`: check the first unfinished exercise, then again each
//! time one of its files is saved, with the verdict, a progress bar over
//! all exercises, and the keys: `h` hint, `n` next, `l` list, `q` quit; `r`
//! or Enter runs the check again. On a terminal a key acts alone
//! ([`crate::term`]); from a pipe (tests, scripts) keys come as lines, each
//! followed by Enter.
//!
//! Saves are noticed with inotify(7) on the exercise's directories (an
//! editor that saves by renaming a new file over the old one gives
//! IN_MOVED_TO there, not an event on the file). Where inotify cannot see
//! saves (a network filesystem: NFS, SMB, FUSE, 9p such as WSL's `/mnt`),
//! or with `--manual`, Enter runs the check again. No polling, no sleep:
//! one poll(2) on stdin and the inotify fd.

use std::io::IsTerminal;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use nix::sys::statfs::{self, FsType};

use crate::cargo::Verdict;
use crate::catalog::Exercise;
use crate::cli::{Outcome, Usage};
use crate::hint::wrap;
use crate::progress::{self, bar};
use crate::state::{self, Saved};
use crate::term::KeyMode;

const KEYS: &str =
    "keys: h hint · n next · l list · q quit · r or Enter: check again";
const LINE_KEYS: &str = "keys (then Enter): h hint · n next · l list · q quit · r or \
                         Enter alone: check again";

pub fn watch(root: &Path, catalog: &[Exercise], args: &[&str]) -> Outcome {
    let manual = match args {
        [] => false,
        ["--manual"] => true,
        [other, ..] => return Err(Usage(format!("unexpected argument {other:?}"))),
    };
    // The first exercise that does not pass, checking in order only as far
    // as needed.
    let Some(mut at) = catalog
        .iter()
        .position(|e| !progress::verdict(root, e).passed())
    else {
        workbook::say!("All done: every exercise passes.");
        return Ok(ExitCode::SUCCESS);
    };
    // Single keys on a terminal; lines from anything else. The guard puts
    // the terminal back on every way out of this function.
    let key_mode = match std::io::stdin().is_terminal() {
        false => None,
        true => match KeyMode::enter() {
            Ok(mode) => Some(mode),
            Err(why) => {
                eprintln!("{why}; keys are read as lines instead (then Enter).");
                None
            }
        },
    };
    let keys = match key_mode {
        Some(_) => KEYS,
        None => LINE_KEYS,
    };
    let mut hints_shown = 0;
    let mut watcher = Watcher::new(manual, key_mode.is_some());
    let mut input = Vec::new();
    let mut check = true;
    loop {
        let exercise = &catalog[at];
        watcher.watch(root, exercise);
        if std::mem::replace(&mut check, true) {
            let verdict = progress::verdict(root, exercise);
            show(root, catalog, exercise, &verdict, &watcher, keys);
        }
        // Wait for a save or a key.
        let key = match watcher.wait(&mut input) {
            Event::Saved => continue,
            Event::Closed => return Ok(ExitCode::SUCCESS),
            Event::Key(key) => key,
        };
        match key.as_str() {
            "" | "r" => {}
            "q" => return Ok(ExitCode::SUCCESS),
            "h" => {
                let n = hints_shown % exercise.hints.len();
                hints_shown += 1;
                workbook::say!("hint {} of {}:", n + 1, exercise.hints.len());
                for line in wrap(&exercise.hints[n], 76) {
                    workbook::say!("  {line}");
                }
                if n + 1 == exercise.hints.len() {
                    workbook::say!(
                        "That was the last hint (h starts again). The check, not the \
                         solution, is the teacher; `cargo workbook solution {}` shows \
                         the answer once it passes.",
                        exercise.id
                    );
                }
                workbook::say!("{keys}");
                check = false;
            }
            "n" => {
                // The next exercise after this one that does not pass yet.
                let next = (1..catalog.len())
                    .map(|step| (at + step) % catalog.len())
                    .find(|i| !progress::verdict(root, &catalog[*i]).passed());
                match next {
                    Some(next) => {
                        at = next;
                        hints_shown = 0;
                    }
                    None => {
                        workbook::say!(
                            "This is the last exercise that does not pass."
                        )
                    }
                }
            }
            "l" => {
                list(root, catalog);
                workbook::say!("{keys}");
                check = false;
            }
            other => {
                workbook::say!("unknown key {other:?}; {keys}");
                check = false;
            }
        }
    }
}

fn show(
    root: &Path,
    catalog: &[Exercise],
    exercise: &Exercise,
    verdict: &Verdict,
    watcher: &Watcher,
    keys: &str,
) {
    workbook::say!();
    workbook::say!(
        "{} ({}), exercises/{}/src/",
        exercise.package,
        exercise.title,
        exercise.package
    );
    match verdict {
        Verdict::Passed { note } if note.is_empty() => {
            workbook::say!("  passed. n for the next exercise.")
        }
        Verdict::Passed { note } => {
            workbook::say!("  passed ({note}). n for the next exercise.")
        }
        Verdict::NotYet(why) | Verdict::Unknown(why) => {
            workbook::say!("  not yet: {why}")
        }
    }
    workbook::say!("{}", bar(passes(root, catalog), catalog.len(), 40));
    match watcher.inotify.is_some() {
        true => workbook::say!("Checked again each time you save a file of it."),
        false => {
            workbook::say!("{}; press Enter to check again.", watcher.why_manual)
        }
    }
    workbook::say!("{keys}");
}

/// How many exercises pass, by their saved verdicts (none is run for it).
fn passes(root: &Path, catalog: &[Exercise]) -> usize {
    let saved = Saved::load(root);
    let shared = state::shared_key(root);
    catalog
        .iter()
        .filter(|e| {
            saved
                .get(&e.package, &state::key(root, e, shared))
                .is_some_and(Verdict::passed)
        })
        .count()
}

fn list(root: &Path, catalog: &[Exercise]) {
    let saved = Saved::load(root);
    let shared = state::shared_key(root);
    for e in catalog {
        let status = match saved.get(&e.package, &state::key(root, e, shared)) {
            Some(v) if v.passed() => "passed ",
            Some(_) => "not yet",
            // No saved verdict for these files as they are now.
            None => "not checked yet",
        };
        workbook::say!("  {status:<15}  {:<24} {}", e.package, e.title);
    }
}

enum Event {
    Saved,
    /// A key, as a line's text without its spaces: "" for Enter alone.
    Key(String),
    Closed,
}

struct Watcher {
    inotify: Option<Inotify>,
    why_manual: String,
    watching: Option<String>,
    /// Stdin gives single keys (a terminal in key mode), not lines.
    single_keys: bool,
}

impl Watcher {
    fn new(manual: bool, single_keys: bool) -> Watcher {
        let (inotify, why_manual) = match manual {
            true => (None, "Manual mode (--manual)".into()),
            false => {
                match Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK) {
                    Ok(inotify) => (Some(inotify), String::new()),
                    Err(errno) => (
                        None,
                        format!(
                            "inotify_init1 failed ({errno:?}), no file watching"
                        ),
                    ),
                }
            }
        };
        Watcher {
            inotify,
            why_manual,
            watching: None,
            single_keys,
        }
    }

    /// Watch the directories of `exercise` (once per exercise: a new
    /// inotify instance drops the old watches).
    fn watch(&mut self, root: &Path, exercise: &Exercise) {
        if self.inotify.is_none()
            || self.watching.as_deref() == Some(&exercise.package)
        {
            return;
        }
        let dir = root.join("exercises").join(&exercise.package);
        if wsl_mnt(&dir) {
            self.inotify = None;
            self.why_manual = "WSL's /mnt: saves from Windows are not seen".into();
            return;
        }
        if let Some(kind) = network_fs(&dir) {
            self.inotify = None;
            self.why_manual = format!("{kind}: saves are not seen here");
            return;
        }
        let fresh = Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK);
        let mut dirs = vec![dir.clone()];
        dirs_under(&dir, &mut dirs);
        let flags = AddWatchFlags::IN_CLOSE_WRITE
            | AddWatchFlags::IN_MOVED_TO
            | AddWatchFlags::IN_DELETE;
        let added = fresh.and_then(|inotify| {
            for dir in &dirs {
                inotify.add_watch(dir, flags)?;
            }
            Ok(inotify)
        });
        match added {
            Ok(inotify) => {
                self.inotify = Some(inotify);
                self.watching = Some(exercise.package.clone());
            }
            Err(errno) => {
                self.inotify = None;
                self.why_manual = format!("inotify_add_watch failed ({errno:?})");
            }
        }
    }

    /// Block in poll(2) until a save, a key (a full line on stdin when it
    /// is not in key mode), or the end of stdin.
    fn wait(&mut self, input: &mut Vec<u8>) -> Event {
        loop {
            if let Some(key) = self.next_key(input) {
                return key;
            }
            let stdin = std::io::stdin();
            let mut fds = vec![PollFd::new(stdin.as_fd(), PollFlags::POLLIN)];
            if let Some(inotify) = &self.inotify {
                fds.push(PollFd::new(inotify.as_fd(), PollFlags::POLLIN));
            }
            match poll(&mut fds, PollTimeout::NONE) {
                Err(Errno::EINTR) => continue,
                Err(_) => return Event::Closed,
                Ok(_) => {}
            }
            let ready = |fd: &PollFd| fd.revents().is_some_and(|r| !r.is_empty());
            let saved = fds.get(1).is_some_and(ready);
            let typed = ready(&fds[0]);
            drop(fds);
            if saved {
                // Take every event queued so far: one check for one save,
                // however many events the editor's save made.
                if let Some(inotify) = &self.inotify {
                    while inotify.read_events().is_ok_and(|e| !e.is_empty()) {}
                }
                return Event::Saved;
            }
            if typed {
                let mut buf = [0u8; 256];
                match nix::unistd::read(std::io::stdin().as_fd(), &mut buf) {
                    Ok(0) | Err(_) => return Event::Closed,
                    // In key mode, one read of an arrow or function key
                    // gives its whole escape sequence (ESC [ A ...): it is
                    // no key of ours, and its bytes must not act as keys.
                    Ok(_) if self.single_keys && buf[0] == 0x1b => {
                        return Event::Key("escape sequence".into());
                    }
                    Ok(n) => input.extend_from_slice(&buf[..n]),
                }
            }
        }
    }

    /// The next key already read: one byte in key mode, else one line.
    fn next_key(&self, input: &mut Vec<u8>) -> Option<Event> {
        if !self.single_keys {
            let end = input.iter().position(|b| *b == b'\n')?;
            let line: Vec<u8> = input.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line).trim().to_owned();
            return Some(Event::Key(line));
        }
        if input.is_empty() {
            return None;
        }
        Some(match input.remove(0) {
            // ICRNL (kept on) makes Enter \n; \r if a terminal sends it raw.
            b'\n' | b'\r' => Event::Key(String::new()),
            // Ctrl-D: with ICANON off it is a byte, not the end of input.
            0x04 => Event::Closed,
            byte if byte.is_ascii_graphic() => Event::Key(char::from(byte).into()),
            byte => Event::Key(format!("byte {byte:#04x}")),
        })
    }
}

/// Directories below `dir`, but `target/`.
fn dirs_under(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for path in entries.flatten().map(|e| e.path()) {
        if path.is_dir() && !path.ends_with("target") {
            found.push(path.clone());
            dirs_under(&path, found);
        }
    }
}

/// `dir` is under /mnt on WSL, where Windows' drives are mounted and
/// Windows editors' saves do not reach inotify.
fn wsl_mnt(dir: &Path) -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap_or_default()
        .to_ascii_lowercase();
    (release.contains("microsoft") || release.contains("wsl"))
        && dir.starts_with("/mnt")
}

/// The kind of filesystem `dir` is on, if inotify cannot see saves there
/// (they may be made by another machine, or through another kernel).
fn network_fs(dir: &Path) -> Option<&'static str> {
    let kind = statfs::statfs(dir).ok()?.filesystem_type();
    [
        (statfs::NFS_SUPER_MAGIC, "NFS"),
        (statfs::SMB_SUPER_MAGIC, "SMB"),
        (FsType(0xFF53_4D42), "CIFS"),
        (FsType(0xFE53_4D42), "SMB2"),
        (statfs::FUSE_SUPER_MAGIC, "a FUSE filesystem"),
        (FsType(0x0102_1997), "9p (WSL's /mnt, a VM's share)"),
    ]
    .into_iter()
    .find(|(magic, _)| *magic == kind)
    .map(|(_, name)| name)
}
