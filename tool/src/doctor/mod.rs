//! `doctor`: what will run on this machine, before anything fails.
//!
//! Facts explain, probes decide. It prints the machine's facts and what
//! among them stands in the way, from `workbook::machine`, the module the
//! error hints read; then it tries the real calls in throwaway children
//! ([`probe`]): a user namespace as an example makes one when it is not
//! root, and unshare(2) of each namespace type. A refusal is explained by
//! the hint an error from that call would carry (`workbook::hint`), so the
//! doctor and a later error say the same cause and the same fix. Each
//! chapter and exercise then gets a line: will run / runs only as root /
//! cannot run here. What a chapter or exercise needs is read from its
//! sources (the CLONE_NEW* flags its code names), so the list cannot fall
//! behind the code.

pub mod probe;
mod report;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use nix::errno::Errno;
use workbook::machine::{self, Facts};

use crate::catalog;
use crate::cli::Outcome;
use probe::{As, Refusal, TYPES};
use report::Report;

/// Whether one chapter or exercise runs here; the text says why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Runs {
    Will(String),
    OnlyAsRoot(String),
    Cannot(String),
}

/// What the probes found: for each namespace type tried, Ok or the refusal.
type Tried = BTreeMap<&'static str, Result<(), Refusal>>;

pub fn doctor(root: &Path) -> Outcome {
    let facts = machine::facts();
    let mut out = Report::default();
    report::machine(&mut out, &facts);
    report::blockers(&mut out, &facts);
    let rootless = !facts.cap_sys_admin;
    let mut tried = Tried::new();
    out.line("\nTrying the calls (each in a throwaway child)");
    if rootless {
        let entry = probe::attempt(As::MeRootless, "user");
        out.tried("user namespace, you mapped to root", &entry);
        out.why(&facts, As::MeRootless, &entry);
        tried.insert("user", entry);
    }
    // As root, the tests' unprivileged cases run as uid 65534, who must be
    // allowed a user namespace (else those cases are skipped).
    let nobody = match facts.cap_sys_admin && facts.euid == Some(0) {
        true => {
            let entry = probe::attempt(As::Nobody, "user");
            out.tried("user namespace as uid 65534 (the tests)", &entry);
            out.why(&facts, As::Nobody, &entry);
            entry
        }
        false => Ok(()),
    };
    let userns_ok = tried.get("user").is_none_or(|r| r.is_ok());
    for t in TYPES {
        if rootless && (t == "user" || !userns_ok) {
            continue;
        }
        let who = if rootless { As::MeRootless } else { As::Me };
        let result = probe::attempt(who, t);
        let name = probe::flag(t).map_or(t, |(_, name)| name);
        let how = if rootless { " (in it)" } else { "" };
        out.tried(&format!("unshare({name}){how}"), &result);
        out.why(&facts, who, &result);
        tried.insert(t, result);
    }
    // Chapter 15 and its exercises name namespaces by nsfs file handles
    // (Linux 6.18): asked of this process's own UTS namespace, which the
    // question changes nothing about.
    let handles = probe::nsfs_handles();
    out.tried("name_to_handle_at on a namespace file", &handles);
    out.why(&facts, As::Me, &handles);
    tried.insert(probe::NSFS_HANDLE, handles);
    let cannot = match catalog::load(root) {
        Ok(catalog) => verdicts(&mut out, root, &catalog, &tried, &nobody, rootless),
        Err(_) => {
            out.line("\n(exercises/exercises.toml unreadable: no list of chapters)");
            false
        }
    };
    if let Err(code) = out.emit() {
        return Ok(code);
    }
    if cannot {
        eprintln!(
            "error: some of the workbook cannot run here; the fixes are above"
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// One line per chapter and exercise. True if any cannot run here.
fn verdicts(
    out: &mut Report,
    root: &Path,
    catalog: &[catalog::Exercise],
    tried: &Tried,
    nobody: &Result<(), Refusal>,
    rootless: bool,
) -> bool {
    let mut chapters: Vec<&str> = Vec::new();
    for e in catalog {
        if !chapters.contains(&e.chapter.as_str()) {
            chapters.push(&e.chapter);
        }
    }
    let mut cannot = false;
    // A refusal that holds back many lines is said once, above them.
    if let (true, Some(Err(refusal))) = (rootless, tried.get("user")) {
        out.line("");
        out.wrapped(
            "",
            &format!(
                "As you, {} (see above): what makes a user namespace of its own runs \
                 only as root.",
                refused(refusal)
            ),
        );
    }
    if let Err(refusal) = nobody {
        out.line("");
        out.wrapped(
            "",
            &format!(
                "As uid 65534, {} (see above): the tests' unprivileged cases are \
                 skipped.",
                refused(refusal)
            ),
        );
    }
    out.line("\nChapters (`cargo run -p <chapter>`)");
    for chapter in chapters {
        let dir = root.join("chapters").join(chapter).join("src");
        let (needs, userns) = needs(&[dir]);
        let verdict = runs(tried, &needs, userns && rootless, "`sudo`");
        cannot |= matches!(verdict, Runs::Cannot(_));
        out.verdict(chapter, &verdict);
    }
    out.line("\nExercises (`cargo test -p <exercise>`)");
    for e in catalog {
        let dirs = [
            root.join("solutions").join(&e.package).join("src"),
            root.join("exercises").join(&e.package).join("tests"),
        ];
        let (needs, _) = needs(&dirs);
        let root_cases =
            format!("`{} -p {}`", workbook::root_cases::COMMAND, e.package);
        let mut verdict = runs(tried, &needs, rootless, &root_cases);
        if let (Runs::Will(note), Err(_)) = (&mut verdict, nobody) {
            *note = "root cases only".into();
        }
        if let (Runs::Will(note), true) = (&mut verdict, rootless) {
            *note = format!("unprivileged cases; root cases: {root_cases}");
        }
        cannot |= matches!(verdict, Runs::Cannot(_));
        out.verdict(&e.package, &verdict);
    }
    cannot
}

/// What one chapter or exercise gets from what was tried. `as_root` is how
/// to run it as root.
fn runs(
    tried: &Tried,
    needs: &[&'static str],
    rootless: bool,
    as_root: &str,
) -> Runs {
    if let (true, Some(Err(_))) = (rootless, tried.get("user")) {
        return Runs::OnlyAsRoot(as_root.into());
    }
    for t in needs {
        if let Some(Err(refusal)) = tried.get(t) {
            return Runs::Cannot(format!("{} (see above)", refused(refusal)));
        }
    }
    Runs::Will(String::new())
}

/// `unshare(CLONE_NEWUTS) fails with ENOSPC`.
fn refused(r: &Refusal) -> String {
    format!("{} fails with {:?}", r.call, r.errno)
}

/// Why the kernel refused, and the fix: the hint an error from that call
/// carries (`workbook::hint`), given the facts as the refused process saw
/// them. The doctor's own sentence only for steps no example takes.
pub fn explain(facts: &Facts, who: As, r: &Refusal) -> String {
    let hint =
        workbook::hint::for_call_on(&r.call, r.errno, &seen_by(facts, who, r));
    if !hint.is_empty() {
        return hint;
    }
    let t = TYPES
        .iter()
        .find(|t| probe::flag(t).is_some_and(|(_, name)| r.call.contains(name)))
        .copied()
        .unwrap_or("user");
    // user_namespaces(7), "The /proc/pid/setgroups file": with `deny`
    // there, setgroups(2) fails with EPERM, even for root of the namespace.
    if r.call.starts_with("setgroups") && facts.setgroups_denied == Some(true) {
        return "this user namespace denies setgroups(2) (/proc/self/setgroups says \
                `deny`, user_namespaces(7)), so root here cannot become uid 65534 as \
                the tests' unprivileged cases do; run the tests outside it"
            .into();
    }
    if ["setgroups", "setgid", "setuid"]
        .iter()
        .any(|c| r.call.starts_with(c))
    {
        // setuid(2): EINVAL when the uid has no mapping in this user
        // namespace, EPERM without CAP_SETUID.
        return "root could not become uid 65534 here: is it mapped in this user \
                namespace (/proc/self/uid_map, user_namespaces(7))?"
            .into();
    }
    match r.errno {
        // unshare(2), ERRORS: EINVAL for a type the kernel was built
        // without (CONFIG_UTS_NS...); time namespaces came in Linux 5.6.
        Errno::EINVAL => format!(
            "this kernel ({}) has no {t} namespaces: it was built without them \
             (time namespaces need Linux 5.6)",
            facts.release.as_deref().unwrap_or("of unknown release")
        ),
        // clone(2), ERRORS: before Linux 4.9 a user namespace nested too
        // deep gave EUSERS; since 4.9 it is ENOSPC (kernel/user_namespace.c,
        // create_user_ns: refused below level 33, chapter 7 shows it).
        Errno::EUSERS => {
            "user namespaces are nested as deep as this kernel allows (clone(2), \
             ERRORS: EUSERS before Linux 4.9): run from an outer one"
                .into()
        }
        errno => format!("{}: see unshare(2), ERRORS", errno.desc()),
    }
}

/// The facts as the process that met `r` saw them, which is what its error's
/// hint would read. Inside the user namespace the child made it holds every
/// capability and is uid 0; the limits stay the doctor's, since they still
/// bind (the new namespace's own files show 2147483647).
fn seen_by(facts: &Facts, who: As, r: &Refusal) -> Facts {
    if r.in_new_userns {
        return Facts {
            cap_sys_admin: true,
            euid: Some(0),
            uid_mapped: Some(true),
            setgroups_denied: Some(true),
            ..facts.clone()
        };
    }
    match who {
        As::Nobody => Facts {
            cap_sys_admin: false,
            euid: Some(65534),
            ..facts.clone()
        },
        As::Me | As::MeRootless => facts.clone(),
    }
}

/// The namespace types the code in `dirs` names (CLONE_NEW* outside
/// comments), and whether it enters a user namespace when not root
/// (`userns::`). User namespaces the code makes on purpose count as needs.
fn needs(dirs: &[PathBuf]) -> (Vec<&'static str>, bool) {
    let mut found = Vec::new();
    let mut userns = false;
    for dir in dirs {
        let mut files = Vec::new();
        rust_files(dir, &mut files);
        for file in files {
            let text = fs::read_to_string(&file).unwrap_or_default();
            for code in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
                userns |= code.contains("userns::");
                if code.contains("nsfs_handle::")
                    && !found.contains(&probe::NSFS_HANDLE)
                {
                    found.push(probe::NSFS_HANDLE);
                }
                for (at, _) in code.match_indices("CLONE_NEW") {
                    let word: String = code[at + 9..]
                        .chars()
                        .take_while(|c| c.is_ascii_uppercase())
                        .collect();
                    let t = match word.as_str() {
                        "USER" => "user",
                        "UTS" => "uts",
                        "NS" => "mnt",
                        "NET" => "net",
                        "IPC" => "ipc",
                        "PID" => "pid",
                        "CGROUP" => "cgroup",
                        "TIME" => "time",
                        _ => continue,
                    };
                    if !found.contains(&t) {
                        found.push(t);
                    }
                }
            }
        }
    }
    (found, userns)
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for path in entries.flatten().map(|e| e.path()) {
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[cfg(test)]
mod tests;
