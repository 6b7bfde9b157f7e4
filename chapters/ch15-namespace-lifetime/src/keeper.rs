//! A keeper: a child process that makes namespaces, tells the parent one
//! number, and waits to be released. Its namespaces live while it does;
//! what outlives it is what the lesson shows.

use std::os::fd::AsFd;

use nix::errno::Errno;
use nix::unistd::{Pid, read, write};
use workbook::process::{self, Child, Receiver, Sender};
use workbook::{Error, Result};

/// Field order is drop order: the release pipe closes first (the child,
/// blocked reading it, sees end-of-file and exits), then the child is
/// reaped. So a keeper dropped on an error path still ends and is waited for.
#[derive(Debug)]
pub struct Keeper {
    release: Sender,
    child: Child,
}

impl Keeper {
    /// Fork a child that runs `setup`, sends the number it returns, keeps
    /// what else it returns (`T`, dropped only when released), and waits.
    pub fn start<T>(
        setup: impl FnOnce() -> Result<(u32, T)>,
    ) -> Result<(Keeper, u32)> {
        let (ready_tx, ready_rx) = process::channel()?;
        let (release_tx, release_rx) = process::channel()?;
        let child = process::fork_child(&[&ready_rx, &release_tx], || {
            let (number, kept) = setup()?;
            send(&ready_tx, number)?;
            release_rx.wait()?;
            drop(kept);
            Ok(())
        })?;
        drop((ready_tx, release_rx));
        let keeper = Keeper {
            release: release_tx,
            child,
        };
        // End-of-file before the number: the child failed and has printed why.
        match receive(&ready_rx)? {
            Some(number) => Ok((keeper, number)),
            None => {
                let pid = keeper.pid();
                drop(keeper.release);
                keeper.child.wait()?;
                Err(Error::refused(
                    format!("process {pid} gave up before it was ready"),
                    "",
                ))
            }
        }
    }

    pub fn pid(&self) -> Pid {
        self.child.pid()
    }

    /// `/proc/PID/ns/TYPE` of the keeper.
    pub fn ns_path(&self, ns_type: &str) -> String {
        format!("/proc/{}/ns/{ns_type}", self.pid())
    }

    /// Release the keeper and wait for it to exit.
    pub fn finish(self) -> Result<()> {
        self.release.notify()?;
        self.child.wait()
    }
}

fn send(tx: &Sender, number: u32) -> Result<()> {
    write(tx.as_fd(), &number.to_ne_bytes())
        .map_err(|errno| Error::sys("write(pipe)", errno))?;
    Ok(())
}

fn receive(rx: &Receiver) -> Result<Option<u32>> {
    let mut bytes = [0u8; 4];
    loop {
        match read(rx.as_fd(), &mut bytes) {
            Ok(4) => return Ok(Some(u32::from_ne_bytes(bytes))),
            // A pipe write of 4 bytes is atomic (PIPE_BUF): 0 is end-of-file.
            Ok(_) => return Ok(None),
            Err(Errno::EINTR) => continue,
            Err(errno) => return Err(Error::sys("read(pipe)", errno)),
        }
    }
}
