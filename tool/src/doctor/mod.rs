//! `doctor`: what will run on this machine, before anything fails.
//!
//! It prints the facts that decide it ([`facts`]), then tries the real
//! calls in throwaway children ([`probe`]): a user namespace as an example
//! makes one when it is not root, and unshare(2) of each namespace type.
//! Each chapter and exercise then gets a line, will run / runs only as root
//! / cannot run here, with the fix. What a chapter or exercise needs is
//! read from its sources (the CLONE_NEW* flags its code names), so the list
//! cannot fall behind the code.

pub mod facts;
pub mod probe;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use nix::errno::Errno;

use crate::catalog;
use crate::cli::Outcome;
use facts::{Facts, TYPES};
use probe::{As, Refusal};

/// Whether one chapter or exercise runs here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Runs {
    Will(String),
    OnlyAsRoot(String),
    Cannot(String),
}

pub fn doctor(root: &Path) -> Outcome {
    let facts = facts::read();
    print_facts(&facts);
    let root_user = facts.cap_sys_admin;
    let mut tried: BTreeMap<&str, Result<(), Refusal>> = BTreeMap::new();
    println!("\nTrying the calls (each in a throwaway child)");
    let rootless = !root_user;
    if rootless {
        let entry = probe::attempt(As::MeRootless, "user");
        println!(
            "  {:<44} {}",
            "user namespace, you mapped to root",
            said(&entry)
        );
        tried.insert("user", entry);
    }
    // As root, the tests' unprivileged cases run as uid 65534, who must be
    // allowed a user namespace (else those cases are skipped).
    let nobody = match root_user && facts.euid == 0 {
        true => {
            let entry = probe::attempt(As::Nobody, "user");
            let what = "user namespace as uid 65534 (the tests)";
            println!("  {what:<44} {}", said(&entry));
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
        println!(
            "  {:<44} {}",
            format!("unshare({name}){how}"),
            said(&result)
        );
        tried.insert(t, result);
    }
    let judge = |needs: &[&'static str], uses_userns: bool| {
        runs(&facts, &tried, needs, uses_userns && rootless)
    };
    let Ok(catalog) = catalog::load(root) else {
        println!("\n(exercises/exercises.toml unreadable: no list of chapters)");
        return Ok(ExitCode::SUCCESS);
    };
    let mut chapters: Vec<&str> = Vec::new();
    for e in &catalog {
        if !chapters.contains(&e.chapter.as_str()) {
            chapters.push(&e.chapter);
        }
    }
    let mut cannot = false;
    println!("\nChapters (`cargo run -p <chapter>`)");
    for chapter in chapters {
        let dir = root.join("chapters").join(chapter).join("src");
        let (needs, userns) = needs(&[dir]);
        let verdict = judge(&needs, userns);
        cannot |= matches!(verdict, Runs::Cannot(_));
        line(chapter, &verdict);
    }
    println!("\nExercises (`cargo test -p <exercise>`)");
    for e in &catalog {
        let dirs = [
            root.join("solutions").join(&e.package).join("src"),
            root.join("exercises").join(&e.package).join("tests"),
        ];
        let (needs, _) = needs(&dirs);
        let mut verdict = judge(&needs, true);
        if let (Runs::Will(note), Err(refusal)) = (&mut verdict, &nobody) {
            *note = format!(
                "root cases; the unprivileged ones are skipped: {}: {:?}. {}",
                refusal.call,
                refusal.errno,
                fix(&facts, refusal)
            );
        }
        if let (Runs::Will(note), true) = (&mut verdict, rootless) {
            *note = format!(
                "unprivileged cases; root cases: `{} -p {}`",
                workbook::root_cases::COMMAND,
                e.package
            );
        }
        cannot |= matches!(verdict, Runs::Cannot(_));
        line(&e.package, &verdict);
    }
    if cannot {
        eprintln!(
            "error: some of the workbook cannot run here; the fixes are above"
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_facts(f: &Facts) {
    let show = |v: Option<i64>| v.map_or("absent".to_owned(), |v| v.to_string());
    println!("This machine");
    println!("  kernel         {}", f.kernel);
    let who = match (f.euid, f.cap_sys_admin) {
        (0, true) => "root, with CAP_SYS_ADMIN".to_owned(),
        (uid, true) => format!("uid {uid}, with CAP_SYS_ADMIN"),
        (0, false) => "root, without CAP_SYS_ADMIN".to_owned(),
        (uid, false) => format!("uid {uid}, not root"),
    };
    println!("  you            {who}");
    println!(
        "  sysctls        kernel.unprivileged_userns_clone={}, \
         kernel.apparmor_restrict_unprivileged_userns={}, \
         kernel.apparmor_restrict_unprivileged_unconfined={}",
        show(f.unprivileged_userns_clone),
        show(f.apparmor_restrict),
        show(f.apparmor_restrict_unconfined)
    );
    let limits: Vec<String> = f
        .limits
        .iter()
        .map(|(t, v)| format!("{t}={}", show(*v)))
        .collect();
    println!("  user.max_*_namespaces  {}", limits.join(" "));
    let seccomp = match f.seccomp {
        Some(0) => "0 (none)".to_owned(),
        Some(1) => "1 (strict)".to_owned(),
        Some(2) => "2 (a filter: a container's profile?)".to_owned(),
        Some(n) => n.to_string(),
        None => "unknown".to_owned(),
    };
    println!("  seccomp        {seccomp}");
    let chroot = match f.chroot {
        Some(true) => "yes: / is not pid 1's root",
        Some(false) => "no",
        None => "unknown (/proc/1/root is not readable)",
    };
    println!("  chroot         {chroot}");
    println!("  WSL            {}", if f.wsl { "yes" } else { "no" });
    let propagation = match f.root_shared {
        Some(true) => {
            "shared (the examples make it private in their own mount namespace)"
        }
        Some(false) => "private",
        None => "unknown",
    };
    println!("  / propagation  {propagation}");
    let cgroup = if f.cgroup2 {
        "v2"
    } else {
        "not v2 (/sys/fs/cgroup is no cgroup2)"
    };
    println!("  cgroup         {cgroup}");
}

fn said(result: &Result<(), Refusal>) -> String {
    match result {
        Ok(()) => "ok".into(),
        Err(r) => format!("refused: {}: {:?}", r.call, r.errno),
    }
}

fn line(name: &str, runs: &Runs) {
    match runs {
        Runs::Will(note) if note.is_empty() => println!("  {name:<26} will run"),
        Runs::Will(note) => println!("  {name:<26} will run ({note})"),
        Runs::OnlyAsRoot(fix) => println!("  {name:<26} runs only as root; {fix}"),
        Runs::Cannot(fix) => println!("  {name:<26} cannot run here; {fix}"),
    }
}

/// What one chapter or exercise gets from what was tried.
fn runs(
    f: &Facts,
    tried: &BTreeMap<&str, Result<(), Refusal>>,
    needs: &[&'static str],
    rootless: bool,
) -> Runs {
    if let (true, Some(Err(refusal))) = (rootless, tried.get("user")) {
        return Runs::OnlyAsRoot(format!(
            "{}: {:?}. {}",
            refusal.call,
            refusal.errno,
            fix(f, refusal)
        ));
    }
    for t in needs {
        if let Some(Err(refusal)) = tried.get(t) {
            return Runs::Cannot(format!(
                "{}: {:?}. {}",
                refusal.call,
                refusal.errno,
                fix(f, refusal)
            ));
        }
    }
    Runs::Will(String::new())
}

/// The fix for a refusal, from the facts that explain it.
pub fn fix(f: &Facts, r: &Refusal) -> String {
    let t = TYPES
        .iter()
        .find(|t| probe::flag(t).is_some_and(|(_, name)| r.call.contains(name)))
        .copied()
        .unwrap_or("user");
    if f.seccomp == Some(2) && r.errno == Errno::EPERM {
        return "A seccomp filter refuses it (`Seccomp: 2`, a container's profile): \
                run on the host, or with `--security-opt seccomp=unconfined`"
            .into();
    }
    if ["setgroups", "setgid", "setuid"]
        .iter()
        .any(|c| r.call.starts_with(c))
    {
        return "uid 65534 is not mapped in this user namespace (see \
                /proc/self/uid_map, user_namespaces(7))"
            .into();
    }
    match r.errno {
        Errno::ENOSPC => match f.limit(t) {
            Some(0) => format!(
                "user.max_{t}_namespaces is 0: `sudo sysctl -w user.max_{t}_namespaces=10000`"
            ),
            limit => format!(
                "The limit user.max_{t}_namespaces ({}) is reached, here or in an \
                 enclosing user namespace: end what holds them, or \
                 `sudo sysctl -w user.max_{t}_namespaces=10000`",
                limit.map_or("unknown".into(), |l| l.to_string())
            ),
        },
        Errno::EPERM if r.call.contains("map") || r.call.contains("setgroups") => {
            match f.apparmor_restrict {
                Some(1) => "AppArmor restricts unprivileged user namespaces: \
                            `sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`, \
                            or run as root"
                    .into(),
                _ => "Run as root (`cargo test-root`, `sudo`)".into(),
            }
        }
        Errno::EPERM if t == "user" => {
            if f.unprivileged_userns_clone == Some(0) {
                "`sudo sysctl -w kernel.unprivileged_userns_clone=1`, or run as root".into()
            } else if f.chroot == Some(true) {
                "In a chroot, unshare(CLONE_NEWUSER) fails with EPERM (unshare(2), \
                 ERRORS): run outside it"
                    .into()
            } else {
                "Run as root (`cargo test-root`, `sudo`)".into()
            }
        }
        Errno::EPERM => "It needs CAP_SYS_ADMIN: run as root (`cargo test-root`, `sudo`)".into(),
        Errno::EINVAL => format!(
            "This kernel ({}) has no {t} namespaces (built without them)",
            f.kernel
        ),
        Errno::EUSERS => "Too deeply nested user namespaces (32 levels): run from an outer one".into(),
        errno => format!("{errno}: see unshare(2), ERRORS"),
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
