//! The calls of the lesson that change mounts, each made through nix and
//! spelled as C, for the story and for its error (book/src/introduction.md,
//! "Reading the output"). What they show is in main.rs.

use std::fs;
use std::path::Path;

use nix::mount::{MsFlags, mount};
use workbook::error::Context;
use workbook::{Error, Result, say};

/// `"/tmp/x"`: a path as a C string literal.
pub fn q(path: &Path) -> String {
    format!("\"{}\"", path.display())
}

/// `MS_REC | MS_PRIVATE`.
pub fn flag_names(flags: MsFlags) -> String {
    let names: Vec<&str> = flags.iter_names().map(|(name, _)| name).collect();
    match names.is_empty() {
        true => "0".into(),
        false => names.join(" | "),
    }
}

/// mkdir(2) then a tmpfs on the new directory; returns the calls.
pub fn tmpfs_on_new_dir(target: &Path) -> Result<String> {
    mkdir(target)?;
    Ok(format!("mkdir({}, 0777), {}", q(target), tmpfs(target)?))
}

/// mount("tmpfs", target, "tmpfs", 0, "size=1M"); returns the call.
pub fn tmpfs(target: &Path) -> Result<String> {
    let call = format!("mount(\"tmpfs\", {}, \"tmpfs\", 0, \"size=1M\")", q(target));
    mount(
        Some("tmpfs"),
        target,
        Some("tmpfs"),
        MsFlags::empty(),
        Some("size=1M"),
    )
    .call(|| call.clone())?;
    Ok(call)
}

/// mount(source, target, NULL, MS_BIND, NULL): the same directory tree,
/// seen at a second place; returns the call.
pub fn bind(source: &Path, target: &Path) -> Result<String> {
    let call = format!("mount({}, {}, NULL, MS_BIND, NULL)", q(source), q(target));
    mount(
        Some(source),
        target,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .call(|| call.clone())?;
    Ok(call)
}

/// mount(NULL, target, NULL, flags, NULL): change the propagation type of
/// the mount on `target` (and of every mount below it, with MS_REC);
/// returns the call.
pub fn propagation(target: &Path, flags: MsFlags) -> Result<String> {
    let call = format!(
        "mount(NULL, {}, NULL, {}, NULL)",
        q(target),
        flag_names(flags)
    );
    mount(None::<&str>, target, None::<&str>, flags, None::<&str>)
        .call(|| call.clone())?;
    Ok(call)
}

pub fn mkdir(path: &Path) -> Result<()> {
    fs::create_dir(path).call(|| format!("mkdir({}, 0777)", q(path)))
}

/// A call the lesson makes knowing the kernel refuses it: print the error
/// the program would print (call, errno, hint), indented, and go on. Any
/// other outcome stops the story: the kernel did not do what the chapter
/// says it does.
pub fn expect_refusal<T>(
    who: &str,
    result: Result<T>,
    wanted: nix::errno::Errno,
) -> Result<()> {
    match result {
        Err(err) if err.errno() == Some(wanted) => {
            say!("{who}: refused, as expected:");
            for line in err.to_string().lines() {
                say!("  {line}");
            }
            Ok(())
        }
        Err(err) => Err(err),
        Ok(_) => Err(Error::refused(
            format!(
                "{who}: the kernel allowed a call the chapter expects it to refuse with {wanted}"
            ),
            "",
        )),
    }
}
