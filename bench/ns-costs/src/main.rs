//! What each namespace operation costs, measured in fresh processes.
//!
//! For each of the eight types (and a row without one, the baseline):
//! unshare(2), clone3(2), setns(2) by a /proc/PID/ns file and by a pidfd,
//! the teardown (last process gone to namespace freed), and util-linux
//! `unshare --TYPE true`. Each cell is `--runs` samples, each a new process
//! that does the operation once; the table gives the median and the 99th
//! percentile in microseconds. Run as root it measures twice: as root, then
//! as uid 65534 inside a user namespace of its own (the rootless path);
//! run as another user, only the second. See bench/README.md and the book's
//! appendix "What each operation costs".

mod sample;
mod stats;

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use sample::{Join, KINDS, Kind, NONE};
use workbook::{Error, Result, say};

const USAGE: &str = "\
usage: bench-ns-costs [--runs N] [--types LIST] [--markdown]

Time creating, joining and tearing down each namespace type, in fresh
processes, with util-linux unshare(1) beside it. Median / p99, microseconds.
  --runs N      samples per cell (default 200; p99 needs 100 or more)
  --types LIST  only these, comma-separated (cgroup,ipc,net,mnt,pid,time,user,uts)
  --markdown    a Markdown table, as in the book's appendix
As root: measured as root, then as uid 65534 in a user namespace of its own.
";

/// Cells refused so far, in this process: the run fails at the end if any
/// was, after printing the whole table (CI's smoke run must notice).
static REFUSED: AtomicUsize = AtomicUsize::new(0);

fn main() -> ExitCode {
    workbook::cli::main(USAGE, |_| run())
}

#[derive(Debug)]
struct Options {
    runs: usize,
    kinds: Vec<Kind>,
    markdown: bool,
}

fn options() -> Result<Options> {
    let mut options = Options {
        runs: 200,
        kinds: KINDS.to_vec(),
        markdown: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--markdown" => options.markdown = true,
            "--runs" => {
                let value = args.next().unwrap_or_default();
                options.runs = match value.parse::<usize>() {
                    Ok(n) if (1..=100_000).contains(&n) => n,
                    _ => {
                        return Err(Error::usage(format!(
                            "--runs {value:?}: a number of samples from 1 to 100000"
                        )));
                    }
                };
            }
            "--types" => {
                let value = args.next().unwrap_or_default();
                let mut kinds = Vec::new();
                for name in value.split(',') {
                    match KINDS.iter().find(|kind| kind.name == name) {
                        Some(kind) => kinds.push(*kind),
                        None => {
                            return Err(Error::usage(format!(
                                "--types: {name:?} is not one of cgroup, ipc, net, mnt, pid, time, user, uts"
                            )));
                        }
                    }
                }
                options.kinds = kinds;
            }
            other => {
                return Err(Error::usage(format!("unexpected argument {other:?}")));
            }
        }
    }
    Ok(options)
}

fn run() -> Result<()> {
    let options = options()?;
    let columns = [
        "who",
        "type",
        "unshare",
        "clone3",
        "setns /proc fd",
        "setns pidfd",
        "exit→reap",
        "reap→gone",
        "unshare(1)",
    ];
    header(&options);
    print_row(&options, &columns.map(String::from));
    if options.markdown {
        let rule = [
            "---", "---", "---:", "---:", "---:", "---:", "---:", "---:", "---:",
        ];
        print_row(&options, &rule.map(String::from));
    }
    // Safety: geteuid cannot fail.
    let euid = unsafe { libc::geteuid() };
    if euid == 0 {
        measure_all(&options, "root")?;
    }
    // The rootless half in a child: the benchmark itself never enters a
    // namespace, so nothing it does outlives it.
    let (nobody, who) = match euid {
        0 => (Some(65534), "65534 (own userns)".to_owned()),
        uid => (None, format!("{uid} (own userns)")),
    };
    rootless(&options, nobody, &who)?;
    match REFUSED.load(Ordering::Relaxed) {
        0 => Ok(()),
        n => Err(Error::refused(
            format!("{n} cell(s) could not be measured"),
            "each one's error is above; the table shows the errno and the call",
        )),
    }
}

fn header(options: &Options) {
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap_or_default()
        .trim()
        .to_owned();
    // Safety: sysconf with a constant name.
    let cpus = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    let mounts = std::fs::read_to_string("/proc/self/mountinfo")
        .map(|text| text.lines().count())
        .unwrap_or(0);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load.split(' ').next().unwrap_or("?");
    let bullet = if options.markdown { "- " } else { "" };
    say!(
        "{bullet}Linux {kernel}, {cpus} CPUs online, load average {load} at the start"
    );
    say!(
        "{bullet}{mounts} mounts in the mount namespace that unshare(CLONE_NEWNS) copies"
    );
    say!("{bullet}{}", sample::grace_period());
    say!(
        "{bullet}{} fresh processes per cell; median / p99 in microseconds{}",
        options.runs,
        if options.runs < 100 {
            " (p99 of fewer than 100 runs is about the maximum)"
        } else {
            ""
        }
    );
    say!();
}

fn print_row(options: &Options, cells: &[String]) {
    match options.markdown {
        true => say!("| {} |", cells.join(" | ")),
        false => {
            let mut line = format!("{:<20}{:<18}", cells[0], cells[1]);
            for cell in &cells[2..] {
                line.push_str(&format!("{cell:>15}"));
            }
            say!("{}", line.trim_end());
        }
    }
}

/// Every row, in the current process's user namespace, labelled `who`.
fn measure_all(options: &Options, who: &str) -> Result<()> {
    let mut kinds = vec![NONE];
    kinds.extend(&options.kinds);
    for kind in kinds {
        measure_row(options, who, kind, kind.name)?;
    }
    if options
        .kinds
        .iter()
        .any(|kind| kind.flag == libc::CLONE_NEWNS)
    {
        in_child(|_| crowded(options, who))?;
    }
    Ok(())
}

/// Extra mounts for the crowded mnt row: copy_mnt_ns copies every mount.
const EXTRA_MOUNTS: usize = 1000;

/// The mnt row again, from a mount namespace with EXTRA_MOUNTS more mounts:
/// a private copy of ours (made private first, so nothing propagates to the
/// host), with tmpfs mounts stacked on /tmp. All of it goes when this child
/// exits.
fn crowded(options: &Options, who: &str) -> Result<()> {
    use nix::mount::{MsFlags, mount};
    use nix::sched::{CloneFlags, unshare};
    use workbook::error::Context;
    unshare(CloneFlags::CLONE_NEWNS).call(|| "unshare(CLONE_NEWNS)".into())?;
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .call(|| "mount(NULL, \"/\", NULL, MS_REC | MS_PRIVATE, NULL)".into())?;
    for _ in 0..EXTRA_MOUNTS {
        mount(
            Some("ns-costs"),
            "/tmp",
            Some("tmpfs"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
            Some("size=4k"),
        )
        .call(|| "mount(\"ns-costs\", \"/tmp\", \"tmpfs\", MS_NOSUID | MS_NODEV | MS_NOEXEC, \"size=4k\")".into())?;
    }
    let mounts = std::fs::read_to_string("/proc/self/mountinfo")
        .map(|text| text.lines().count())
        .unwrap_or(0);
    let kind = KINDS
        .iter()
        .find(|kind| kind.flag == libc::CLONE_NEWNS)
        .copied()
        .unwrap_or(NONE);
    measure_row(options, who, kind, &format!("mnt, {mounts} mounts"))
}

fn measure_row(options: &Options, who: &str, kind: Kind, label: &str) -> Result<()> {
    progress(&format!("{who}: {label}"));
    let observer = sample::Observer::new()?;
    let runs = options.runs;
    let mut exit_to_reap = Vec::with_capacity(runs);
    let mut reap_to_gone = Vec::with_capacity(runs);
    let mut teardown_refused = None;
    for _ in 0..runs {
        match sample::teardown(kind, &observer) {
            Ok(one) => {
                exit_to_reap.push(one.exit_to_reap);
                reap_to_gone.extend(one.reap_to_gone);
            }
            Err(err) => {
                teardown_refused = Some(refusal(&err));
                break;
            }
        }
    }
    if kind.flag == libc::CLONE_NEWNET && teardown_refused.is_none() {
        reap_to_gone = match sample::net_teardowns(runs) {
            Ok(samples) => samples,
            Err(err) => {
                teardown_refused = Some(refusal(&err));
                Vec::new()
            }
        };
    }
    let cells = [
        who.to_owned(),
        label.to_owned(),
        cell(runs, || sample::unshare(kind)),
        cell(runs, || sample::clone3(kind)),
        joined(runs, kind, Join::ProcFd),
        joined(runs, kind, Join::Pidfd),
        teardown_refused
            .clone()
            .unwrap_or_else(|| summary(&exit_to_reap)),
        teardown_refused.unwrap_or_else(|| summary(&reap_to_gone)),
        cell(runs, || sample::util_linux(kind)),
    ];
    print_row(options, &cells);
    Ok(())
}

/// setns cells: one holder process for all the samples of the cell.
fn joined(runs: usize, kind: Kind, join: Join) -> String {
    if kind == NONE {
        return "-".to_owned();
    }
    match sample::hold(kind) {
        Ok(holder) => cell(runs, || sample::setns(kind, &holder, join)),
        Err(err) => refusal(&err),
    }
}

/// `runs` samples of one operation: "median / p99", or what refused it.
fn cell(runs: usize, mut one: impl FnMut() -> Result<u64>) -> String {
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        match one() {
            Ok(ns) => samples.push(ns),
            Err(err) => return refusal(&err),
        }
    }
    summary(&samples)
}

fn summary(samples: &[u64]) -> String {
    match stats::summarise(samples) {
        Some(s) => format!(
            "{} / {}",
            stats::micros(s.median_ns),
            stats::micros(s.p99_ns)
        ),
        None => "-".to_owned(),
    }
}

/// A refused cell shows the errno and the call; the whole error goes to
/// stderr, so that a table still comes out.
fn refusal(err: &Error) -> String {
    let _ = writeln!(std::io::stderr(), "{err}");
    REFUSED.fetch_add(1, Ordering::Relaxed);
    match err {
        Error::Sys { call, errno, .. } => {
            let name = call.split('(').next().unwrap_or("");
            format!("{errno:?} ({name})")
        }
        _ => "refused".to_owned(),
    }
}

fn progress(what: &str) {
    let _ = writeln!(std::io::stderr(), "measuring {what}...");
}

/// The rootless half: a child that (as root: becomes `uid`) enters a user
/// namespace of its own, as a learner without root would, then measures.
fn rootless(options: &Options, uid: Option<u32>, who: &str) -> Result<()> {
    in_child(|parent| {
        enter_own_userns(uid, parent).and_then(|()| measure_all(options, who))
    })
}

/// Run `body` in a forked child and wait for it: the benchmark itself never
/// enters a namespace, so nothing it does outlives it. The child fails if
/// `body` does or if it refused a cell; its error is on stderr already.
/// `body` gets the parent's PID, for [`die_with_parent`] after a change of
/// credentials.
fn in_child(body: impl FnOnce(libc::pid_t) -> Result<()>) -> Result<()> {
    let parent = std::process::id() as libc::pid_t;
    // Safety: the benchmark is single-threaded; the child only measures,
    // prints and leaves with _exit.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(Error::sys("fork()", nix::errno::Errno::last()));
    }
    if pid == 0 {
        die_with_parent(parent);
        let code = match body(parent) {
            Ok(()) if REFUSED.load(Ordering::Relaxed) == 0 => 0,
            Ok(()) => 3,
            Err(err) => {
                let _ = writeln!(std::io::stderr(), "{err}");
                1
            }
        };
        let _ = std::io::stdout().flush();
        // Safety: leave without the parent's exit handlers.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    loop {
        // Safety: `status` is a valid int to write to.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            break;
        }
        if nix::errno::Errno::last() != nix::errno::Errno::EINTR {
            return Err(Error::sys(
                format!("waitpid({pid})"),
                nix::errno::Errno::last(),
            ));
        }
    }
    match (libc::WIFEXITED(status), libc::WEXITSTATUS(status)) {
        (true, 0) => Ok(()),
        (true, 3) => {
            REFUSED.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
        _ => Err("a measuring child failed (its error is above)".into()),
    }
}

/// Ask for SIGKILL when the parent dies (PR_SET_PDEATHSIG, prctl(2)), then
/// leave at once if it has died already: a parent that died before the
/// request leaves this process reparented, so getppid(2) no longer returns
/// `parent`. Without this, a benchmark killed with SIGKILL would leave its
/// measuring child running on.
fn die_with_parent(parent: libc::pid_t) {
    // Safety: prctl and getppid with integer arguments; _exit leaves without
    // the parent's exit handlers.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        if libc::getppid() != parent {
            libc::_exit(1);
        }
    }
}

/// Become `uid` (as root), then enter a user namespace of its own, mapping
/// 0 to the (new) uid and gid. `parent` is the PID of the process that
/// forked this one, for [`die_with_parent`].
fn enter_own_userns(uid: Option<u32>, parent: libc::pid_t) -> Result<()> {
    use nix::errno::Errno;
    if let Some(uid) = uid {
        // Safety: plain id calls. setuid(2) from root makes the process
        // non-dumpable, which would make /proc/self/uid_map root's
        // (proc(5), "/proc/pid/"): PR_SET_DUMPABLE undoes that.
        unsafe {
            if libc::setgroups(0, std::ptr::null()) != 0 {
                return Err(Error::sys("setgroups(0, NULL)", Errno::last()));
            }
            if libc::setgid(uid) != 0 {
                return Err(Error::sys(format!("setgid({uid})"), Errno::last()));
            }
            if libc::setuid(uid) != 0 {
                return Err(Error::sys(format!("setuid({uid})"), Errno::last()));
            }
            libc::prctl(libc::PR_SET_DUMPABLE, 1);
        }
        // A change of effective uid clears the parent-death signal
        // (prctl(2), PR_SET_PDEATHSIG; commit_creds(), kernel/cred.c):
        // ask again, and check that the parent did not die meanwhile.
        die_with_parent(parent);
    }
    // Safety: ids never fail.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    // Safety: unshare with a flag word; single-threaded, as CLONE_NEWUSER needs.
    if unsafe { libc::unshare(libc::CLONE_NEWUSER) } != 0 {
        return Err(Error::sys("unshare(CLONE_NEWUSER)", Errno::last()));
    }
    workbook::userns::write_proc("/proc/self/setgroups", "deny")?;
    workbook::userns::write_proc("/proc/self/uid_map", &format!("0 {uid} 1"))?;
    workbook::userns::write_proc("/proc/self/gid_map", &format!("0 {gid} 1"))?;
    Ok(())
}
