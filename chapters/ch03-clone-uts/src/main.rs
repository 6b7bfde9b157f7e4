//! Chapter 3: clone(2), a child born in a new UTS namespace.
//!
//! unshare(2) moves the caller; clone(2) with CLONE_NEW* flags creates a
//! child that starts life in new namespaces, while its parent stays where it
//! was. This is the slides' C program done right: the child is cloned into a
//! new UTS namespace on a stack the program allocates, checks that its
//! namespace is new, sets its hostname there and prints it with uname(2); the
//! parent waits for it, then prints its own nodename, unchanged.
//!
//! Two ways to make the same call: `nix::sched::clone` (here, the default)
//! and raw `libc::clone` as C does it (`--libc`, in `libc_clone.rs`). Both
//! print the same lines but one, which names the way.
//!
//! The slides' version, and what this one fixes (each at the line it
//! concerns): `sethostname(arg, "ernie")` has the wrong arguments; no call's
//! result is checked; the parent never waits for its child; the stack's size
//! and top are left unexplained.
//!
//! Read: clone(2), uts_namespaces(7), sethostname(2), uname(2), waitpid(2).

mod libc_clone;

use std::io::Write;
use std::process::ExitCode;

use nix::sched::{CloneFlags, clone};
use nix::sys::signal::Signal;
use nix::sys::utsname::uname;
use nix::unistd::{Pid, sethostname};
use workbook::cli::{self, Args};
use workbook::error::Context;
use workbook::ns::{self, NsId};
use workbook::process::{self, Child};
use workbook::say;
use workbook::{Error, Result, userns};

const USAGE: &str = "\
Usage: ch03-clone-uts [--libc] [HOSTNAME]

Starts a child with clone(2) in a new UTS namespace (CLONE_NEWUTS), on a
stack this program allocates, with SIGCHLD as its exit signal. The child
checks its namespace is new, sets its hostname to HOSTNAME (default \"ernie\",
at most 64 bytes) and prints it with uname(2); the parent waits for it, then
prints its own, unchanged.

  --libc   call libc::clone as the slides' C program does, with a stack from
           std::alloc, instead of nix::sched::clone

Root runs it directly; anyone else runs it inside a user namespace the example
creates first. Read clone(2) and uts_namespaces(7).
";

const DEFAULT_HOSTNAME: &str = "ernie";

// ANCHOR: stack_size
/// The child's stack, in bytes: 1 MiB, as in the man pages' clone(2) example.
/// The child runs ordinary Rust code (formatting, stdio, stat, uname), which
/// needs a few tens of KiB at most. A stack taken from the heap has no guard
/// page below it: an overflow may silently overwrite other memory of the
/// child, or run into an unmapped page and die of SIGSEGV, depending on
/// what lies below; so be generous. Pages are only backed by memory as the
/// child touches them. A multiple of 16, for the stack-top arithmetic.
pub(crate) const STACK_SIZE: usize = 1024 * 1024;
// ANCHOR_END: stack_size

/// How the parent calls clone(2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// `nix::sched::clone`: a closure and a `&mut [u8]` stack.
    Nix,
    /// `libc::clone`: an `extern "C"` function, the stack's top address, and
    /// a `void *` argument, as in C.
    Libc,
}

fn main() -> ExitCode {
    cli::main(USAGE, lesson)
}

fn lesson(mut args: Args) -> Result<()> {
    let variant = match args.flag("--libc") {
        true => Variant::Libc,
        false => Variant::Nix,
    };
    let hostname = cli::hostname(args.next("hostname")?, DEFAULT_HOSTNAME)?;
    args.finish()?;
    userns::enter_if_unprivileged()?;
    let me = std::process::id();

    // ANCHOR: parent_before
    // Captured before clone: the child compares its own with it.
    let parent_uts = NsId::current("uts")?;
    let parent_nodename = nodename()?;
    say!("process {me} (parent) is in {parent_uts}, nodename \"{parent_nodename}\"");
    // ANCHOR_END: parent_before

    // ANCHOR: dispatch
    let child_pid = match variant {
        Variant::Nix => clone_with_nix(&hostname, parent_uts)?,
        Variant::Libc => libc_clone::clone_with_libc(&hostname, parent_uts)?,
    };
    say!(
        "process {me} (parent): waitpid({child_pid}, &status, 0): process {child_pid} exited \
         with status 0"
    );
    // ANCHOR_END: dispatch

    // ANCHOR: parent_after
    // The slides' C prints this line without waiting, so it may come before
    // the child's, or the child may still be running when the shell prompt
    // returns. Here the child is gone: its UTS namespace went with it.
    let uts = NsId::current("uts")?;
    let name = nodename()?;
    say!(
        "process {me} (parent): uname(&buf) -> nodename \"{name}\", in {uts}, unchanged"
    );
    if uts != parent_uts || name != parent_nodename {
        return Err(Error::refused(
            format!(
                "the parent's UTS namespace changed: now {uts}, nodename \"{name}\""
            ),
            "",
        ));
    }
    // ANCHOR_END: parent_after
    Ok(())
}

// ANCHOR: clone_nix
/// clone(2) through nix: a closure for the child, and a stack as a byte
/// slice. Returns once the child has exited with status 0.
fn clone_with_nix(hostname: &str, parent_uts: NsId) -> Result<Pid> {
    let me = std::process::id();
    // The program allocates the child's stack; nix passes the clone system
    // call its top, `stack.as_mut_ptr() + stack.len()` rounded down to a
    // multiple of 16 (the stack pointer alignment that the x86-64 and aarch64
    // ABIs require), since stacks grow down.
    let mut stack = vec![0u8; STACK_SIZE];
    say!(
        "process {me} (parent) calls clone(CLONE_NEWUTS | SIGCHLD) through nix::sched::clone, \
         with a {} KiB stack it allocated",
        STACK_SIZE / 1024
    );
    // The child starts with a copy of this process's memory: lines still
    // buffered would be printed twice.
    let _ = std::io::stdout().flush();
    let child_cb: nix::sched::CloneCb =
        Box::new(|| child_main(hostname, parent_uts) as isize);
    // CLONE_NEWUTS: the child starts in a new UTS namespace, a copy of ours.
    // SIGCHLD (the last argument): the signal the kernel sends the parent
    // when the child ends. It makes the child an ordinary child for
    // waitpid(2); with any other signal, or none, waitpid must be given
    // __WALL (or __WCLONE) or it fails with ECHILD (clone(2), waitpid(2)).
    //
    // Safety: the child runs `child_main` on `stack`, STACK_SIZE bytes (see
    // there why that is enough). This process has one thread, so the child,
    // a copy of it, holds no lock that a thread missing from it would never
    // release. Without CLONE_VM the child has its own copy of the memory, so
    // the closure and the `hostname` it borrows are valid there. The child
    // returns from `child_main` only, and then ends (see there).
    let pid = unsafe {
        clone(
            child_cb,
            &mut stack,
            CloneFlags::CLONE_NEWUTS,
            Some(Signal::SIGCHLD as i32),
        )
    }
    .call(|| "clone(CLONE_NEWUTS | SIGCHLD)".into())?;
    // Adopted at once: on every path from here, the child is reaped. The
    // slides' C never waits for its child.
    let child = Child::from_pid(pid);
    // waitpid(2); an error unless the child exited with status 0.
    child.wait()?;
    // The child ran on its own copy of `stack`, so freeing ours could not
    // hurt it even earlier; with CLONE_VM (a thread) it could not be freed
    // before the child ends.
    drop(stack);
    Ok(pid)
}
// ANCHOR_END: clone_nix

// ANCHOR: child
/// The child's whole life, in either variant; returns its exit status.
pub(crate) fn child_main(hostname: &str, parent_uts: NsId) -> i32 {
    // When this returns, the child ends at once with the exit system call
    // (nix's and glibc's clone both end it so): no destructor runs and no
    // buffer is flushed, so `child_life` flushes what it printed now. It
    // also catches a panic, which must not unwind out of the child's first
    // frame into memory that is a copy of the parent's frames.
    process::child_life(|| in_child(hostname, parent_uts))
}

fn in_child(hostname: &str, parent_uts: NsId) -> Result<()> {
    let me = std::process::id();
    // Before sethostname, the proof that the namespace is new: had clone
    // ignored CLONE_NEWUTS, this would rename the host. The slides' child
    // does not check.
    let uts = NsId::current("uts")?;
    ns::ensure_new(parent_uts, uts)?;
    say!(
        "process {me} (child) is in {uts}, not its parent's {parent_uts}: a new UTS namespace"
    );
    // sethostname(2) takes the name and its length: `sethostname(name, len)`.
    // The slides' `sethostname(arg, "ernie")` passes the name as the length;
    // nix passes the length of the &str for us. Its result is checked.
    sethostname(hostname)
        .call(|| format!("sethostname(\"{hostname}\", {})", hostname.len()))?;
    say!("process {me} (child): sethostname(\"{hostname}\")");
    let name = nodename()?;
    say!("process {me} (child): uname(&buf) -> nodename \"{name}\", in {uts}");
    Ok(())
}
// ANCHOR_END: child

/// uname(2)'s nodename: the hostname of the caller's UTS namespace.
fn nodename() -> Result<String> {
    let uts = uname().call(|| "uname(&buf)".into())?;
    Ok(uts.nodename().to_string_lossy().into_owned())
}
