//! The tree of this run's namespaces by owner, drawn as `lsns -T owner`
//! draws it (lsns(8), util-linux 2.38+): each user namespace with the
//! namespaces it owns below it, child user namespaces included, and which of
//! this run's processes is in each.
//!
//! Only the types this example creates are drawn (user, uts, ipc, pid);
//! its processes share the others (mnt, net, cgroup, time) with the host.

use std::collections::HashMap;
use std::process::Command;

use nix::errno::Errno;
use nix::unistd::Pid;
use workbook::ns::NsId;
use workbook::{Error, Result, nsfs, say};

/// The types drawn, in the order `/proc/PID/ns/` lists them, user last.
const TYPES: [&str; 4] = ["ipc", "pid", "uts", "user"];

/// One namespace, as the kernel relates it.
#[derive(Debug)]
pub(crate) struct Node {
    id: NsId,
    ns_id: String,
    /// NS_GET_USERNS (for a user namespace NS_GET_PARENT, "synonymous with
    /// NS_GET_USERNS" there: ioctl_ns(2));
    /// `None` where the kernel says EPERM.
    owner: Option<NsId>,
    /// NS_GET_PARENT, for a user or PID namespace; `None` where EPERM.
    parent: Option<NsId>,
    /// NS_GET_OWNER_UID, for a user namespace.
    owner_uid: Option<u32>,
    procs: Vec<Pid>,
}

// ANCHOR: build
/// Ask the kernel about every namespace of `pids` of the drawn types.
pub(crate) fn build(pids: &[Pid]) -> Result<Vec<Node>> {
    let mut nodes: Vec<Node> = Vec::new();
    for &pid in pids {
        for ns_type in TYPES {
            let path = format!("/proc/{pid}/ns/{ns_type}");
            let what = format!("fd of \"{path}\"");
            let fd = crate::walk::open(&path)?;
            let id = NsId::of_fd(ns_type, &fd, &path)?;
            if let Some(node) = nodes.iter_mut().find(|n| n.id == id) {
                node.procs.push(pid);
                continue;
            }
            let owner = match ns_type {
                "user" => nsfs::parent(&fd, &what),
                _ => nsfs::owner(&fd, &what),
            };
            let owner = match owner {
                Ok(owner_fd) => Some(NsId::of_fd("user", &owner_fd, "owner_fd")?),
                Err(err) if err.errno() == Some(Errno::EPERM) => None,
                Err(err) => return Err(err),
            };
            let parent = match ns_type {
                "user" => owner,
                "pid" => match nsfs::parent(&fd, &what) {
                    Ok(parent_fd) => {
                        Some(NsId::of_fd("pid", &parent_fd, "parent_fd")?)
                    }
                    Err(err) if err.errno() == Some(Errno::EPERM) => None,
                    Err(err) => return Err(err),
                },
                _ => None,
            };
            let owner_uid = match ns_type {
                "user" => Some(nsfs::owner_uid(&fd, &what)?),
                _ => None,
            };
            let ns_id = crate::walk::ns_id(&fd, &what)?;
            nodes.push(Node {
                id,
                ns_id,
                owner,
                parent,
                owner_uid,
                procs: vec![pid],
            });
        }
    }
    Ok(nodes)
}
// ANCHOR_END: build

/// Print the tree: roots are the namespaces whose owner is not drawn.
pub(crate) fn print(nodes: &[Node], pids: &[Pid]) {
    let me = std::process::id();
    let listed: Vec<String> = pids.iter().map(|p| format!("process {p}")).collect();
    say!(
        "process {me}: the namespaces of {}, by owner (as lsns -T owner draws them):",
        listed.join(", ")
    );
    for root in nodes.iter().filter(|n| !is_drawn(nodes, n.owner)) {
        draw(nodes, root, "", "");
    }
}

fn is_drawn(nodes: &[Node], id: Option<NsId>) -> bool {
    id.is_some_and(|id| nodes.iter().any(|n| n.id == id))
}

/// One line, then the namespaces `node` owns, below it.
fn draw(nodes: &[Node], node: &Node, lead: &str, rest: &str) {
    let uid = node
        .owner_uid
        .map(|u| format!(", owner uid {u}"))
        .unwrap_or_default();
    let procs: Vec<String> =
        node.procs.iter().map(|p| format!("process {p}")).collect();
    say!(
        "{lead}{} ns_id {}{uid}: {}",
        node.id,
        node.ns_id,
        procs.join(", ")
    );
    let owned: Vec<&Node> =
        nodes.iter().filter(|n| n.owner == Some(node.id)).collect();
    for (i, child) in owned.iter().enumerate() {
        let last = i + 1 == owned.len();
        let (branch, below) = if last {
            ("└─", "  ")
        } else {
            ("├─", "│ ")
        };
        draw(
            nodes,
            child,
            &format!("{rest}{branch}"),
            &format!("{rest}{below}"),
        );
    }
}

// ANCHOR: lsns
/// Run `lsns --tree=owner` and `lsns --tree=parent`, and check that they
/// hang each drawn namespace under the same owner, each user and PID
/// namespace under the same parent. `-T owner` with a space is refused by
/// 2.38 (the argument is optional, so it must be attached: `-Towner`).
pub(crate) fn compare_with_lsns(nodes: &[Node]) -> Result<()> {
    let me = std::process::id();
    let Some(version) = lsns_version()? else {
        say!(
            "process {me}: lsns not compared: it has no --tree before util-linux 2.38"
        );
        return Ok(());
    };
    for relation in ["owner", "parent"] {
        let tree = lsns_tree(relation, &version)?;
        let mut compared = 0;
        for node in nodes {
            let above = match relation {
                "owner" => node.owner,
                _ => node.parent,
            };
            if !is_drawn(nodes, above) {
                continue;
            }
            let (kernel, lsns) =
                (above.map(|o| o.ino), tree.get(&node.id.ino).copied());
            if lsns != Some(kernel) {
                return Err(Error::refused(
                    format!(
                        "lsns --tree={relation} (util-linux {version}) puts {} under {lsns:?}, \
                         the kernel under {kernel:?}",
                        node.id
                    ),
                    format!(
                        "run `lsns --tree={relation}` while the example runs, and compare"
                    ),
                ));
            }
            compared += 1;
        }
        say!(
            "process {me}: lsns --tree={relation} --output NS,TYPE: the same {relation} for \
             each of the {compared} namespaces whose {relation} is drawn"
        );
    }
    Ok(())
}

/// How many times to run lsns before its failure counts.
const LSNS_TRIES: usize = 3;

/// `lsns --tree=RELATION`, read as inode -> the inode it hangs under.
fn lsns_tree(relation: &str, version: &str) -> Result<HashMap<u64, Option<u64>>> {
    let tree = format!("--tree={relation}");
    let args = [
        tree.as_str(),
        "--noheadings",
        "--notruncate",
        "--output",
        "NS,TYPE",
    ];
    let call = format!("lsns {tree}");
    // lsns 2.38.1 exited 1 without a word once in about fifteen runs of
    // this chapter's tests, several at once (the cause not found; it reads
    // every process's /proc/PID/ns while processes come and go). Ask again,
    // up to three times, before calling it an error.
    let mut tries = 0;
    let out = loop {
        tries += 1;
        let out = Command::new("lsns")
            .args(args)
            .env("LC_ALL", "C")
            .output()
            .map_err(|e| Error::io(call.as_str(), &e))?;
        if out.status.success() || tries == LSNS_TRIES {
            break out;
        }
    };
    if !out.status.success() {
        return Err(Error::refused(
            format!(
                "{call} (util-linux {version}) failed {tries} times ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            "run it by hand to see why; without --lsns the example does not need it",
        ));
    }
    Ok(lsns_parents(&String::from_utf8_lossy(&out.stdout)))
}

/// `lsns from util-linux 2.38.1` -> Some("2.38.1") if 2.38 or newer.
fn lsns_version() -> Result<Option<String>> {
    let out = match Command::new("lsns").arg("--version").output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("lsns --version", &e)),
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text.split_whitespace().last().unwrap_or("").to_owned();
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    Ok(((major, minor) >= (2, 38)).then_some(version))
}
// ANCHOR_END: lsns

/// inode -> the inode of the line it hangs under (`None` for a root), from
/// a tree whose lines start with `|-`, `` `- `` and `| ` (LC_ALL=C).
fn lsns_parents(text: &str) -> HashMap<u64, Option<u64>> {
    let mut parents = HashMap::new();
    let mut path: Vec<u64> = Vec::new();
    for line in text.lines() {
        let Some(start) = line.find(|c: char| c.is_ascii_digit()) else {
            continue;
        };
        let lead = line[..start].chars().count();
        let Some(ino) = line[start..]
            .split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
        else {
            continue;
        };
        path.truncate(lead / 2);
        parents.insert(ino, path.last().copied());
        path.push(ino);
    }
    parents
}
