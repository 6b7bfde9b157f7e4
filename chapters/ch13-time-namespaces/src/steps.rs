//! The offsets file, and the child born in the new time namespace: the two
//! things the lesson does through files and pipes rather than one call.

use std::fs::{File, OpenOptions};
use std::io::Write;

use workbook::error::Context;
use workbook::ns::NsId;
use workbook::process::{self, Child};
use workbook::{Result, say};

use crate::clocks::Clocks;

/// The offsets file of the caller's `time_for_children` namespace.
pub const OFFSETS: &str = "/proc/self/timens_offsets";

// ANCHOR: write_offsets
/// One write(2) of `text` to /proc/self/timens_offsets.
pub fn write_offsets(text: &str) -> Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .open(OFFSETS)
        .call(|| format!("open(\"{OFFSETS}\", O_WRONLY)"))?;
    file.write_all(text.as_bytes())
        .call(|| format!("write(fd of \"{OFFSETS}\", {text:?})"))
}
// ANCHOR_END: write_offsets

/// The offsets file as one line: "monotonic 864000 0, boottime 864000 0".
pub fn read_offsets() -> Result<String> {
    let text = std::fs::read_to_string(OFFSETS)
        .call(|| format!("read(fd of \"{OFFSETS}\")"))?;
    let lines: Vec<String> = text
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    Ok(format!("\"{}\"", lines.join(", ")))
}

// ANCHOR: start_child
/// fork(2) a child, which is born in the parent's time_for_children
/// namespace; it checks that, prints one line, and sends its clock readings
/// back on a pipe. Returns the child and the pipe's reading end.
pub fn start_child(new_time: NsId) -> Result<(Child, File)> {
    let (read_end, write_end) = nix::unistd::pipe().call(|| "pipe()".into())?;
    let child = process::fork_child(&[&read_end], || {
        let me = std::process::id();
        let time = NsId::current("time")?;
        if time != new_time {
            return Err(format!("the child is in {time}, not in {new_time}").into());
        }
        say!(
            "process {me} (child) is in {time}: born in its parent's time_for_children"
        );
        let reading = Clocks::read()?.to_string();
        let mut pipe =
            File::from(write_end.try_clone().call(|| "dup(pipe)".into())?);
        pipe.write_all(reading.as_bytes())
            .call(|| "write(pipe)".into())
    })?;
    // Ours closed, the child's copy is the only writer: end-of-file comes
    // when the child exits.
    drop(write_end);
    Ok((child, File::from(read_end)))
}
// ANCHOR_END: start_child
