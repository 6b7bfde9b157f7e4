//! `watch`, driven through its stdin and stdout as a learner's terminal
//! would: it checks the exercise, a save of one of its files brings the new
//! verdict, keys are read, and the manual fallback re-runs on Enter. The
//! test synchronises on watch's output (each check ends with the keys
//! line), never on time.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fixture;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Stdio};

use fixture::Fixture;

testkit::cases!(
    a_save_brings_the_new_verdict,
    the_manual_fallback_checks_again_on_enter,
    watch_refuses_unknown_arguments,
    on_a_terminal_single_keys_act_and_q_restores_the_mode,
    on_a_terminal_ctrl_c_restores_the_mode,
    on_a_terminal_ctrl_z_restores_the_mode_and_fg_brings_keys_back,
);

const SOLVED: &str = "pub fn add(a: u32, b: u32) -> u32 {\n    a + b\n}\n";

struct Watch {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Watch {
    fn start(fx: &Fixture, args: &[&str]) -> Watch {
        let mut all = vec!["watch"];
        all.extend_from_slice(args);
        let mut child = fx
            .workbook(&all)
            .env("CARGO", fx.fake_cargo())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting workbook watch");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        Watch {
            child,
            stdin,
            stdout,
        }
    }

    /// Everything watch prints up to and including its next keys line.
    fn next_block(&mut self) -> String {
        let mut block = String::new();
        loop {
            let mut line = String::new();
            let n = self.stdout.read_line(&mut line).expect("reading watch");
            assert!(n > 0, "watch ended early; it printed:\n{block}");
            block.push_str(&line);
            if line.starts_with("keys (then Enter)") {
                return block;
            }
        }
    }

    fn type_line(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").expect("writing to watch");
    }

    fn quit(mut self) {
        self.type_line("q");
        let status = self.child.wait().expect("waiting for watch");
        assert_eq!(status.code(), Some(0));
    }
}

impl Drop for Watch {
    /// A test that failed halfway: end watch and reap it before the
    /// fixture's directory goes, so that nothing writes into it afterwards.
    /// (After `quit`, the process is reaped already and this does nothing.)
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn a_save_brings_the_new_verdict() {
    let fx = Fixture::new("watch");
    let mut watch = Watch::start(&fx, &[]);
    let first = watch.next_block();
    assert!(
        first.contains("not yet: adds (root): still todo!()"),
        "{first}"
    );
    assert!(first.contains("] 0/1"), "{first}");
    assert!(first.contains("each time you save"), "{first}");
    // The learner saves the exercise: no key pressed, the save alone.
    fx.write("exercises/ex01-add/src/lib.rs", SOLVED);
    let second = watch.next_block();
    assert!(
        second.contains("passed (unprivileged cases only; root cases not run)"),
        "{second}"
    );
    assert!(second.contains("] 1/1"), "{second}");
    assert_eq!(fx.cargo_runs(), 2, "one check per save");
    watch.type_line("h");
    let hint = watch.next_block();
    assert!(hint.contains("hint 1 of 2:\n  one\n"), "{hint}");
    watch.type_line("l");
    let list = watch.next_block();
    assert!(list.contains("passed           ex01-add"), "{list}");
    watch.quit();
}

fn the_manual_fallback_checks_again_on_enter() {
    let fx = Fixture::new("watch-manual");
    let mut watch = Watch::start(&fx, &["--manual"]);
    let first = watch.next_block();
    assert!(first.contains("not yet"), "{first}");
    assert!(first.contains("press Enter to check again"), "{first}");
    fx.write("exercises/ex01-add/src/lib.rs", SOLVED);
    watch.type_line("");
    let second = watch.next_block();
    assert!(second.contains("passed"), "{second}");
    watch.quit();
}

fn watch_refuses_unknown_arguments() {
    let fx = Fixture::new("watch-usage");
    let out = fx
        .workbook(&["watch", "--fast"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// `watch` on a real terminal: a tmux server of this test's own (its socket
/// in the fixture, `-f /dev/null`: no user config), killed on drop. The
/// pane runs a script that waits for the test (`tmux wait-for`), prints
/// `stty -a`, runs watch, prints its exit status and `stty -a` again. The
/// test reads everything the pane prints through `pipe-pane` into a FIFO,
/// and waits on it with poll(2): readiness, not time (the deadline only
/// bounds a failing run).
struct TtyWatch {
    fx: Fixture,
    socket: std::path::PathBuf,
    out: std::fs::File,
    seen: String,
    /// Where the next wait starts looking in `seen`.
    from: usize,
}

const PANE: &str = "watch";

impl TtyWatch {
    fn start(name: &str) -> Option<TtyWatch> {
        use std::os::unix::fs::OpenOptionsExt;
        let tmux = std::process::Command::new("tmux").arg("-V").output();
        if !tmux.is_ok_and(|out| out.status.success()) {
            return testkit::skip("tmux is not installed (apt-get install tmux)");
        }
        let fx = Fixture::new(name);
        let cargo = fx.fake_cargo();
        let socket = fx.path("tmux.sock");
        let fifo = fx.path("pane.fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600))
            .unwrap();
        // Opened before any writer, O_NONBLOCK: poll(2) says when the pane
        // printed, and POLLHUP only once `cat` has come and gone.
        let out = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo)
            .unwrap();
        let quote = |p: &std::path::Path| {
            let p = p.display().to_string();
            assert!(!p.contains('\''), "{p}");
            format!("'{p}'")
        };
        // `trap : INT`: the script outlives a Ctrl-C that ends watch, to
        // print the terminal's mode after it.
        let script = format!(
            "trap : INT\n\
             tmux -S {sock} wait-for go\n\
             echo BEFORE; stty -a; echo END\n\
             env -u CARGO_TARGET_DIR WORKBOOK_ROOT={root} CARGO={cargo} {bin} watch\n\
             echo \"watch exited $?\"\n\
             echo AFTER; stty -a; echo END\n",
            sock = quote(&socket),
            root = quote(&fx.0),
            cargo = quote(&cargo),
            bin = quote(std::path::Path::new(env!("CARGO_BIN_EXE_workbook"))),
        );
        let watch = TtyWatch {
            fx,
            socket,
            out,
            seen: String::new(),
            from: 0,
        };
        watch.tmux(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            "120",
            "-y",
            "40",
            "-s",
            PANE,
            "sh",
            "-c",
            &script,
        ]);
        let pipe = format!("cat >>{}", quote(&fifo));
        watch.tmux(&["pipe-pane", "-O", "-t", PANE, &pipe]);
        // Only now, with everything the pane prints going to the FIFO.
        watch.tmux(&["wait-for", "-S", "go"]);
        Some(watch)
    }

    /// `tmux -S <ours> args`; its stdout.
    fn tmux(&self, args: &[&str]) -> String {
        let out = std::process::Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .env_remove("TMUX")
            .output()
            .unwrap();
        assert!(out.status.success(), "tmux {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A key, alone (no Enter), as tmux types it: `h`, `C-c`.
    fn press(&self, key: &str) {
        self.tmux(&["send-keys", "-t", PANE, key]);
    }

    /// Wait until the pane has printed `text` (after what earlier waits
    /// matched); returns what it printed up to the end of `text`.
    fn wait_for(&mut self, text: &str) -> String {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        use std::io::Read;
        use std::os::fd::AsFd;
        let deadline =
            std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            if let Some(at) = self.seen[self.from..].find(text) {
                let end = self.from + at + text.len();
                let printed = self.seen[self.from..end].to_owned();
                self.from = end;
                return printed;
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let mut fds = [PollFd::new(self.out.as_fd(), PollFlags::POLLIN)];
            let ready = poll(&mut fds, PollTimeout::try_from(left).unwrap());
            match ready {
                Ok(0) => panic!(
                    "after 30 s, no {text:?}; the pane printed:\n{}",
                    self.seen
                ),
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(errno) => panic!("poll: {errno}"),
            }
            let mut buf = [0u8; 4096];
            match self.out.read(&mut buf) {
                Ok(0) => panic!("the pane closed before {text:?}:\n{}", self.seen),
                Ok(n) => self.seen.push_str(&String::from_utf8_lossy(&buf[..n])),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => panic!("reading the pane: {e}"),
            }
        }
    }

    /// The terminal's mode, as `stty -a` printed it after `marker`.
    fn stty(&mut self, marker: &str) -> String {
        self.wait_for(marker);
        let mode = self.wait_for("END");
        mode.trim_end_matches("END").trim().to_owned()
    }

    /// The pane's terminal as watch left it, read from the test: tcgetattr
    /// on the pane's tty (`#{pane_tty}`).
    fn local_flags(&self) -> nix::sys::termios::LocalFlags {
        use std::os::unix::fs::OpenOptionsExt;
        let tty = self.tmux(&["display-message", "-p", "-t", PANE, "#{pane_tty}"]);
        let tty = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOCTTY)
            .open(tty.trim())
            .unwrap();
        nix::sys::termios::tcgetattr(&tty).unwrap().local_flags
    }
}

impl TtyWatch {
    /// Until the pane's terminal has (or lacks) ICANON: a stop or a
    /// continue has no event the test could wait on, so this polls
    /// tcgetattr, every 5 ms, for at most 30 s.
    fn until_icanon(&self, on: bool) {
        use nix::sys::termios::LocalFlags;
        let deadline =
            std::time::Instant::now() + std::time::Duration::from_secs(30);
        while self.local_flags().contains(LocalFlags::ICANON) != on {
            assert!(
                std::time::Instant::now() < deadline,
                "after 30 s, ICANON is still {}; the pane printed:\n{}",
                if on { "off" } else { "on" },
                self.seen
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    /// The pane's process group: tmux starts the pane's command as a
    /// session leader, and the script runs watch in its own group (no job
    /// control in `sh -c`).
    fn pane_group(&self) -> nix::unistd::Pid {
        let pid = self.tmux(&["display-message", "-p", "-t", PANE, "#{pane_pid}"]);
        nix::unistd::Pid::from_raw(pid.trim().parse().unwrap())
    }
}

impl Drop for TtyWatch {
    fn drop(&mut self) {
        // Ours only: the server on our socket (gone already if the pane's
        // script ended, which ends its only session).
        let _ = std::process::Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .env_remove("TMUX")
            .output();
    }
}

fn on_a_terminal_single_keys_act_and_q_restores_the_mode() {
    use nix::sys::termios::LocalFlags;
    let Some(mut tty) = TtyWatch::start("watch-tty") else {
        return;
    };
    let before = tty.stty("BEFORE");
    assert!(
        before.contains(" icanon") && before.contains(" echo "),
        "{before}"
    );
    let first = tty.wait_for("keys: h hint");
    assert!(first.contains("not yet: adds (root)"), "{first}");
    let flags = tty.local_flags();
    assert!(!flags.contains(LocalFlags::ICANON), "{flags:?}");
    assert!(!flags.contains(LocalFlags::ECHO), "{flags:?}");
    assert!(
        flags.contains(LocalFlags::ISIG),
        "Ctrl-C still works: {flags:?}"
    );
    // `h` alone, no Enter.
    tty.press("h");
    let hint = tty.wait_for("keys: h hint");
    assert!(hint.contains("hint 1 of 2:"), "{hint}");
    tty.fx.write("exercises/ex01-add/src/lib.rs", SOLVED);
    let saved = tty.wait_for("keys: h hint");
    assert!(saved.contains("passed ("), "{saved}");
    // `r` and Enter check again: the verdict shows again.
    for key in ["r", "Enter"] {
        tty.press(key);
        let again = tty.wait_for("keys: h hint");
        assert!(again.contains("ex01-add (Add)") && again.contains("passed ("));
    }
    tty.press("q");
    tty.wait_for("watch exited 0");
    assert_eq!(tty.stty("AFTER"), before);
}

fn on_a_terminal_ctrl_c_restores_the_mode() {
    let Some(mut tty) = TtyWatch::start("watch-tty-int") else {
        return;
    };
    let before = tty.stty("BEFORE");
    tty.wait_for("keys: h hint");
    // The terminal sends SIGINT (ISIG); watch restores, then dies of it:
    // 128 + 2.
    tty.press("C-c");
    tty.wait_for("watch exited 130");
    assert_eq!(tty.stty("AFTER"), before);
}

fn on_a_terminal_ctrl_z_restores_the_mode_and_fg_brings_keys_back() {
    let Some(mut tty) = TtyWatch::start("watch-tty-tstp") else {
        return;
    };
    let before = tty.stty("BEFORE");
    tty.wait_for("keys: h hint");
    tty.until_icanon(false);
    // Ctrl-Z: the terminal sends SIGTSTP to the pane's group; watch gives
    // the terminal back as it was, then raises SIGTSTP to stop. (The pane's
    // group is orphaned, its shell's parent being the tmux server, so the
    // kernel discards that stop here (setpgid(2) defines "orphaned"; the
    // discard is POSIX's, in kernel/signal.c get_signal()); under a
    // shell with job control the process stops. The handlers are the same.)
    tty.press("C-z");
    tty.until_icanon(true);
    // What `fg` sends: SIGCONT to the group. Watch is in the foreground,
    // so key mode comes back, and a key acts without Enter.
    nix::sys::signal::killpg(tty.pane_group(), nix::sys::signal::Signal::SIGCONT)
        .unwrap();
    tty.until_icanon(false);
    tty.press("h");
    let hint = tty.wait_for("keys: h hint");
    assert!(hint.contains("hint 1 of 2:"), "{hint}");
    // And a second Ctrl-Z works the same way.
    tty.press("C-z");
    tty.until_icanon(true);
    nix::sys::signal::killpg(tty.pane_group(), nix::sys::signal::Signal::SIGCONT)
        .unwrap();
    tty.until_icanon(false);
    tty.press("q");
    tty.wait_for("watch exited 0");
    assert_eq!(tty.stty("AFTER"), before);
}
