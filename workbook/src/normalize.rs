//! Making an example's output the same on every machine, for snapshots and
//! for the book, without losing what it shows.
//!
//! - `uts:[4026532247]` becomes `uts:[A]`: each type's namespaces get letters
//!   in order of first appearance, so equal namespaces keep equal labels and
//!   different ones different labels. A bare inode that appeared in a link
//!   (`st_ino 4026532247`) becomes the same label, `st_ino <uts:A>`.
//! - `st_dev 0:4` becomes `st_dev <dev>`.
//! - PIDs after `process `, `/proc/`, `pid `, `pidfd_open(` or `waitpid(`
//!   become `<P1>`, `<P2>`... by first appearance; `/proc/self` stays.
//! - The learner's uid in `(uid 1000)` and `uid_map "0 1000 1"` becomes `<uid>`.
//! - The machine's hostname in quotes, `"vm"`, becomes `"<host>"`.
//! - A temporary directory `/tmp/ch06-persist.Ab3dE9` becomes
//!   `$TMP/ch06-persist.XXXXXX`.
//! - A peer group in `shared:12` or `master:12` (mountinfo's optional
//!   fields) becomes `<G1>`, `<G2>`... by first appearance: equal groups
//!   keep equal labels.
//! - A namespace id (ioctl NS_GET_ID, chapter 14) in `ns_id 134720`
//!   becomes `ns_id <I1>`, `<I2>`... by first appearance: it differs on each
//!   boot, and equal ids keep equal labels.

use std::collections::HashMap;

/// Normalise `output`; `host` is the machine's hostname, `tmp` its
/// temporary-directory prefix (usually `/tmp`).
pub fn normalize(output: &str, host: &str, tmp: &str) -> String {
    // Temporary directories first: their names carry the PID namespace's
    // inode, which must not become a label inside a path.
    let text = temp_dirs(output, tmp);
    let mut labels = Labels::default();
    let text = namespaces(&text, &mut labels);
    let text = bare_inodes(&text, &labels);
    let text = after_prefixes(&text, &["st_dev "], |_| "<dev>".into(), is_dev_char);
    let mut pids: HashMap<String, usize> = HashMap::new();
    let text = after_prefixes(
        &text,
        &["process ", "/proc/", "pid ", "pidfd_open(", "waitpid("],
        |pid| {
            let next = pids.len() + 1;
            format!("<P{}>", pids.entry(pid.to_owned()).or_insert(next))
        },
        |c| c.is_ascii_digit(),
    );
    let text = peer_groups(&text);
    let mut ns_ids: HashMap<String, usize> = HashMap::new();
    let text = after_prefixes(
        &text,
        &["ns_id "],
        |id| {
            let next = ns_ids.len() + 1;
            format!("<I{}>", ns_ids.entry(id.to_owned()).or_insert(next))
        },
        |c| c.is_ascii_digit(),
    );
    // The learner's uid, in the line that announces a user namespace.
    let text = after_prefixes(
        &text,
        &["(uid ", "uid_map \"0 "],
        |_| "<uid>".into(),
        |c| c.is_ascii_digit(),
    );
    if host.is_empty() {
        text
    } else {
        text.replace(&format!("\"{host}\""), "\"<host>\"")
    }
}

#[derive(Default)]
struct Labels {
    /// ns type -> inodes in order of first appearance.
    by_type: HashMap<String, Vec<String>>,
    /// inode -> its label, `uts:A`.
    by_inode: HashMap<String, String>,
}

impl Labels {
    fn label(&mut self, ns_type: &str, inode: &str) -> String {
        let seen = self.by_type.entry(ns_type.to_owned()).or_default();
        let index = match seen.iter().position(|i| i == inode) {
            Some(i) => i,
            None => {
                seen.push(inode.to_owned());
                seen.len() - 1
            }
        };
        let letter = letter(index);
        self.by_inode
            .entry(inode.to_owned())
            .or_insert_with(|| format!("{ns_type}:{letter}"));
        letter
    }
}

/// A, B, ... Z, then A2, B2, ...: no example has that many of one type.
fn letter(index: usize) -> String {
    let c = char::from(b'A' + (index % 26) as u8);
    match index / 26 {
        0 => c.to_string(),
        n => format!("{c}{}", n + 1),
    }
}

/// Replace every `word:[digits]` with `word:[LABEL]`.
fn namespaces(text: &str, labels: &mut Labels) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(":[") {
        let (before, after) = rest.split_at(at);
        // After the last character that is no part of the word, which may
        // be wider than a byte (a tree's `─`).
        let word_start = before
            .char_indices()
            .rfind(|(_, c)| !(c.is_ascii_lowercase() || *c == '_'))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let ns_type = &before[word_start..];
        let digits_len = after[2..].chars().take_while(char::is_ascii_digit).count();
        let closes = after[2 + digits_len..].starts_with(']');
        if !ns_type.is_empty() && digits_len > 0 && closes {
            let inode = &after[2..2 + digits_len];
            out.push_str(before);
            out.push_str(":[");
            out.push_str(&labels.label(ns_type, inode));
            out.push(']');
            rest = &after[3 + digits_len..];
        } else {
            out.push_str(before);
            out.push_str(":[");
            rest = &after[2..];
        }
    }
    out.push_str(rest);
    out
}

/// Replace bare numbers that are known namespace inodes with `<type:LABEL>`.
fn bare_inodes(text: &str, labels: &Labels) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    let mut prev: Option<char> = None;
    while let Some((start, c)) = chars.next() {
        if c.is_ascii_digit() && !prev.is_some_and(|p| p.is_ascii_alphanumeric()) {
            let mut end = start + 1;
            while let Some(&(i, d)) = chars.peek() {
                if !d.is_ascii_digit() {
                    break;
                }
                end = i + 1;
                chars.next();
            }
            let number = &text[start..end];
            match labels.by_inode.get(number) {
                Some(label) => out.push_str(&format!("<{label}>")),
                None => out.push_str(number),
            }
            prev = number.chars().last();
        } else {
            out.push(c);
            prev = Some(c);
        }
    }
    out
}

/// `shared:214`, `master:214` -> `shared:<G1>`, `master:<G1>`: peer
/// groups (mountinfo's optional fields) by first appearance.
fn peer_groups(text: &str) -> String {
    let mut groups: HashMap<String, usize> = HashMap::new();
    after_prefixes(
        text,
        &["shared:", "master:"],
        |group| {
            let next = groups.len() + 1;
            format!("<G{}>", groups.entry(group.to_owned()).or_insert(next))
        },
        |c| c.is_ascii_digit(),
    )
}

fn is_dev_char(c: char) -> bool {
    c.is_ascii_digit() || c == ':'
}

/// After each of `prefixes`, replace the run of characters accepted by `keep`
/// (if it has at least one digit) with `replace(run)`.
fn after_prefixes(
    text: &str,
    prefixes: &[&str],
    mut replace: impl FnMut(&str) -> String,
    keep: fn(char) -> bool,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    'scan: while i < text.len() {
        for prefix in prefixes {
            if text[i..].starts_with(prefix) {
                let start = i + prefix.len();
                let len = text[start..].chars().take_while(|c| keep(*c)).count();
                let run = &text[start..start + len];
                if run.chars().any(|c| c.is_ascii_digit()) {
                    out.push_str(prefix);
                    out.push_str(&replace(run));
                    i = start + len;
                    continue 'scan;
                }
            }
        }
        let c = text[i..].chars().next().unwrap_or(' ');
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// `/tmp/name.Ab3dE9` -> `$TMP/name.XXXXXX`: mkdtemp's six random characters;
/// `/tmp/name.4026531836.812.9001.Ab3dE9` (see `cleanup`) too.
fn temp_dirs(text: &str, tmp: &str) -> String {
    let prefix = format!("{}/", tmp.trim_end_matches('/'));
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(&prefix) {
        out.push_str(&rest[..at]);
        let after = &rest[at + prefix.len()..];
        let name_len = after
            .find(|c: char| {
                !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
            })
            .unwrap_or(after.len());
        let name = &after[..name_len];
        out.push_str("$TMP/");
        match name.rsplit_once('.') {
            Some((stem, random)) if random.len() == 6 => {
                // workbook::cleanup's names carry their owner between the
                // stem and the random part: `.<pid ns>.<pid>.<start time>`.
                let mut stem = stem;
                while let Some((head, number)) = stem.rsplit_once('.') {
                    if number.is_empty()
                        || !number.bytes().all(|b| b.is_ascii_digit())
                    {
                        break;
                    }
                    stem = head;
                }
                out.push_str(stem);
                out.push_str(".XXXXXX");
            }
            _ => out.push_str(name),
        }
        rest = &after[name_len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_by_type_and_first_appearance() {
        let text =
            "uts:[4026531838] uts:[4026532247] net:[4026531840] uts:[4026531838]";
        assert_eq!(
            normalize(text, "vm", "/tmp"),
            "uts:[A] uts:[B] net:[A] uts:[A]"
        );
    }

    #[test]
    fn same_inode_in_two_types_is_two_namespaces() {
        // Inode numbers are only unique together with the device and type.
        let text = "pid:[5] time:[5] pid:[6]";
        assert_eq!(normalize(text, "vm", "/tmp"), "pid:[A] time:[A] pid:[B]");
    }

    #[test]
    fn bare_inode_and_device() {
        let text = "uts:[4026531838] st_dev 0:4, st_ino 4026531838";
        assert_eq!(
            normalize(text, "vm", "/tmp"),
            "uts:[A] st_dev <dev>, st_ino <uts:A>"
        );
    }

    #[test]
    fn pids_by_first_appearance() {
        let text = "process 812 forked process 813; /proc/813/ns/uts /proc/self/ns/uts pid 812; waitpid(813, &status, 0)";
        assert_eq!(
            normalize(text, "vm", "/tmp"),
            "process <P1> forked process <P2>; /proc/<P2>/ns/uts /proc/self/ns/uts pid <P1>; waitpid(<P2>, &status, 0)"
        );
    }

    #[test]
    fn peer_groups_by_first_appearance() {
        let text = "a shared:214, b shared:214, c master:214, d shared:9 master:214";
        assert_eq!(
            normalize(text, "vm", "/tmp"),
            "a shared:<G1>, b shared:<G1>, c master:<G1>, d shared:<G2> master:<G1>"
        );
    }

    #[test]
    fn a_namespace_after_a_tree_branch() {
        let text = "user:[4026531837]\n├─uts:[4026531838]\n└─user:[4026532668]";
        assert_eq!(
            normalize(text, "vm", "/tmp"),
            "user:[A]\n├─uts:[A]\n└─user:[B]"
        );
    }

    #[test]
    fn namespace_ids_by_first_appearance() {
        let text = "user:[4026531837] ns_id 4098, uts:[4026532669] ns_id 134721; again ns_id 4098";
        assert_eq!(
            normalize(text, "vm", "/tmp"),
            "user:[A] ns_id <I1>, uts:[A] ns_id <I2>; again ns_id <I1>"
        );
    }

    #[test]
    fn uid_of_the_rootless_line() {
        let text =
            "not root (uid 1000): entered user:[4026532250] (uid_map \"0 1000 1\")";
        assert_eq!(
            normalize(text, "vm", "/tmp"),
            "not root (uid <uid>): entered user:[A] (uid_map \"0 <uid> 1\")"
        );
    }

    #[test]
    fn hostname_only_in_quotes() {
        let text = "hostname \"vm\", in vm's namespace \"vmx\"";
        assert_eq!(
            normalize(text, "vm", "/tmp"),
            "hostname \"<host>\", in vm's namespace \"vmx\""
        );
    }

    #[test]
    fn temporary_directories() {
        let text = "mkdtemp -> /tmp/ch02-unshare.a8Zk3Q, mount on /tmp/ch02-unshare.4026531836.812.9001.a8Zk3Q/mnt";
        assert_eq!(
            normalize(text, "vm", "/tmp"),
            "mkdtemp -> $TMP/ch02-unshare.XXXXXX, mount on $TMP/ch02-unshare.XXXXXX/mnt"
        );
    }

    #[test]
    fn a_temporary_directory_after_its_pid_namespace_is_named() {
        // The name carries the PID namespace's inode, already a label.
        let text = "in pid:[4026531836]; mkdtemp -> /tmp/ch08-pid.4026531836.812.9001.a8Zk3Q";
        assert_eq!(
            normalize(text, "vm", "/tmp"),
            "in pid:[A]; mkdtemp -> $TMP/ch08-pid.XXXXXX"
        );
    }

    #[test]
    fn text_without_anything_to_change_is_kept() {
        let text = "nodename in child: ernie\n[not a namespace] x:[y]\n";
        assert_eq!(normalize(text, "vm", "/tmp"), text);
    }
}
