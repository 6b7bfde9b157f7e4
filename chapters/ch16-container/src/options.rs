//! The command line: options, then COMMAND and its arguments, as given.

use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStringExt;
use std::sync::atomic::Ordering;

use workbook::cli;
use workbook::{Error, Result};

use crate::{DEFAULT_HOSTNAME, QUIET};

/// What the child is to do, prepared before the clone.
#[derive(Debug)]
pub struct Config {
    pub hostname: String,
    pub with_init: bool,
    /// A time namespace whose clocks start at 0.
    pub own_clocks: bool,
    pub command: Vec<CString>,
}

pub fn options(args: Vec<OsString>) -> Result<Config> {
    let mut args = args.into_iter();
    let (mut hostname, mut with_init, mut own_clocks) = (None, false, false);
    let mut command = Vec::new();
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("--quiet") => QUIET.store(true, Ordering::Relaxed),
            Some("--init") => with_init = true,
            Some("--time") => own_clocks = true,
            Some("--hostname") => {
                match args.next().and_then(|a| a.into_string().ok()) {
                    Some(name) => hostname = Some(name),
                    None => return Err(Error::usage("--hostname needs a NAME")),
                }
            }
            Some("--") => break,
            Some(option) if option.starts_with('-') => {
                return Err(Error::usage(format!("unknown option {option:?}")));
            }
            _ => {
                command.push(arg);
                break;
            }
        }
    }
    command.extend(args);
    if command.is_empty() {
        return Err(Error::usage("missing COMMAND"));
    }
    let command = command
        .into_iter()
        .map(|arg| CString::new(arg.into_vec()))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|_| Error::usage("an argument of COMMAND contains a NUL byte"))?;
    Ok(Config {
        hostname: cli::hostname(hostname, DEFAULT_HOSTNAME)?,
        with_init,
        own_clocks,
        command,
    })
}
