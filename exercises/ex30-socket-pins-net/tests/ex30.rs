//! The checks of exercise 30: `cargo test -p ex30-socket-pins-net`.
//!
//! Each case runs your code in a fresh process, as root and as an
//! unprivileged user (then inside a user namespace of its own). The tests
//! ask the kernel which network namespace the caller is in, which one the
//! socket was made in (SIOCGSKNS), and whether that one lives, by its file
//! handle (open_by_handle_at: ESTALE once it is gone). To check the wait, a
//! thread of the tests closes the last fd of a namespace 50 ms into it.
//! `home` is a network namespace the tests make first, which an unprivileged
//! caller may join again (its own user namespace owns it).

use std::fs::File;
use std::os::fd::AsFd;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use ex30_socket_pins_net as ex;
use nix::sched::{CloneFlags, unshare};
use testkit::exercise::{self, Case, Outcome, Parked, call, ensure, setup};
use workbook::ns::NsId;
use workbook::nsfs_handle::{Handle, socket_net};

/// Longer than any release seen here (about 50 ms at most).
const DEADLINE: Duration = Duration::from_secs(2);
/// When the test's thread closes the last fd, into the wait.
const LATE: Duration = Duration::from_millis(50);
/// The short deadline of the case where nothing dies.
const SHORT: Duration = Duration::from_millis(100);

pub fn main() -> ExitCode {
    exercise::main(
        "ex30",
        &[
            Case::new("the_socket_alone_holds_the_new_namespace", pins),
            Case::new("gone_within_waits_for_a_late_death", waits),
        ],
    )
}

fn pins() -> Outcome {
    // A home of the test's own: unprivileged, the caller may join back only
    // a namespace its user namespace owns (setns(2): CAP_SYS_ADMIN there).
    exercise::isolate(CloneFlags::CLONE_NEWNET)?;
    let home_fd = setup("open /proc/self/ns/net", File::open("/proc/self/ns/net"))?;
    let home = setup("fstat", NsId::of_fd("net", &home_fd, "/proc/self/ns/net"))?;
    let socket = call(
        "socket_in_new_net(home)",
        ex::socket_in_new_net(home_fd.as_fd()),
    )?;
    let now = setup("reading /proc/self/ns/net", NsId::current("net"))?;
    ensure(now == home, || {
        format!(
            "after socket_in_new_net the caller is in {now}, not back in {home}: setns(home, CLONE_NEWNET) once the socket is made"
        )
    })?;
    let net_fd = setup("ioctl(socket, SIOCGSKNS)", socket_net(&socket, "socket"))?;
    let net = setup("fstat", NsId::of_fd("net", &net_fd, "SIOCGSKNS"))?;
    ensure(net != home, || {
        format!(
            "the socket was made in {home}, the caller's own namespace: make it after unshare(CLONE_NEWNET)"
        )
    })?;
    let handle = setup("name_to_handle_at", Handle::of_fd(&net_fd, "SIOCGSKNS"))?;
    drop(net_fd);
    ensure(setup("open_by_handle_at", handle.is_alive())?, || {
        format!("{net} is gone although its socket is open (a bug in the test?)")
    })?;
    drop(socket);
    ensure(handle.wait_gone(DEADLINE).is_ok(), || {
        format!(
            "{net} is still alive {} s after its socket was closed: socket_in_new_net left something else holding it (an fd of it, never closed)",
            DEADLINE.as_secs()
        )
    })
}

/// A network namespace whose only holder is the returned fd.
fn held_by_an_fd() -> Result<(File, Handle, NsId), String> {
    let helper = Parked::spawn(|| {
        setup("unshare(CLONE_NEWNET)", unshare(CloneFlags::CLONE_NEWNET))
    })?;
    let path = format!("/proc/{}/ns/net", helper.pid());
    let fd = setup("open the helper's net", File::open(&path))?;
    let ns = setup("fstat", NsId::of_fd("net", &fd, &path))?;
    let handle = setup("name_to_handle_at", Handle::of_fd(&fd, &path))?;
    helper.finish()?;
    Ok((fd, handle, ns))
}

fn waits() -> Outcome {
    // Nothing dies: the answer is false, and only at the deadline.
    let (fd, handle, ns) = held_by_an_fd()?;
    let start = Instant::now();
    let answer = call(
        "gone_within(handle, 100 ms)",
        ex::gone_within(&handle, SHORT),
    )?;
    let took = start.elapsed();
    ensure(!answer, || {
        format!("gone_within said {ns} is gone, while an fd of the test holds it")
    })?;
    ensure(took >= SHORT, || {
        format!(
            "gone_within gave up after {} ms, before its deadline of {} ms",
            took.as_millis(),
            SHORT.as_millis()
        )
    })?;
    // The last fd closes 50 ms into the wait: the answer is true.
    let closer = setup(
        "starting a thread",
        std::thread::Builder::new().spawn(move || {
            std::thread::sleep(LATE);
            drop(fd);
        }),
    )?;
    let answer = ex::gone_within(&handle, DEADLINE);
    let _ = closer.join();
    match answer {
        Ok(true) => Ok(()),
        Ok(false) if setup("open_by_handle_at", handle.is_alive())? => Err(format!(
            "{ns} outlived the test's last fd of it: gone_within held it, with an fd it opened and did not close"
        )),
        Ok(false) => Err(format!(
            "gone_within said {ns} still lives, but it went {} ms into the wait, well within the deadline of {} s: ask again until the deadline, not once",
            LATE.as_millis(),
            DEADLINE.as_secs()
        )),
        Err(err) => Err(format!(
            "gone_within returned an error: \"{}\"; ESTALE is the kernel's answer \"gone\", Ok(true)",
            exercise::sentence(&err)
        )),
    }
}
