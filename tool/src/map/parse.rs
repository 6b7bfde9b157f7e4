//! A run's story, read back as a map: which process was seen in which
//! namespace, line by line.
//!
//! The chapters print what a process does in the notation the book explains
//! ("Reading the output"): a line begins with its process, `process <P1>
//! (parent):` (or `PID 1 (init)` inside a PID namespace), and a namespace
//! is written `uts:[A]`. A namespace on a line is taken as the process's own
//! only in these phrasings, so that `not its parent's uts:[A]` or `a
//! descriptor of uts:[B]` never put a process where it is not:
//!
//! - `in uts:[A]` (`is in`, `starts in`, `stays in`, `still in`), or
//!   `looks from uts:[A]`: the process named last before it in the clause
//!   (clauses end at `;`), else the line's; but after `it is`, the last
//!   process the line named before it, across clauses (`held by process
//!   <P8>'s pid_for_children; it is in pid:[D]`);
//! - `unshare(...) -> uts:[B]`, `setns(...) -> uts:[B]`: the line's process
//!   moved there; `unshare(...): net:[A] -> net:[B]` also says where it was.
//!   The call moved only the types its flags name (`unshare(CLONE_NEWUTS)
//!   -> uts:[C]`); a namespace of another type on the line is one it was
//!   seen in, a separate event (`setns(fd, 0)` names none: all are its);
//! - a row that lists a namespace's processes, as chapter 14's tree does:
//!   `├─pid:[A] ns_id <I3>: process <P1>, process <P2>`;
//! - `process <P1> (joiner): uts:[A] net:[A]`: a line that begins with them;
//! - an indented table row `  uts   uts:[A]` under a process's line (chapter
//!   1's `/proc/self/ns`).
//!
//! Never taken: a `pid_for_children` or `time_for_children` namespace (the
//! children's, not the caller's), `born in`, `uid 65534 in user:[A]` (an id
//! seen from there). In an `NSpid:` list the process is in the last
//! (innermost) PID namespace, and `PID 1 in pid:[B]` there names it as seen
//! from inside, which is how a later `PID 1 (init)` line is known to be it.
//! Where a call on a line moved a type, a later `still in` of that type on
//! the same line is about something else (chapter 10's `the first one is
//! still in net:[B]`: a socket).
//!
//! This reads prose: a chapter that says it another way may need a rule
//! here. `cargo workbook map chNN` shows what it reads; `tests.rs` pins the
//! reading of the chapters' snapshots.

use std::collections::BTreeMap;
use std::fmt;

/// A namespace by its normalised label: `uts:[A]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ns {
    pub kind: String,
    pub label: String,
}

impl fmt::Display for Ns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:[{}]", self.kind, self.label)
    }
}

/// A process of the story: `<P1>`, or `PID 2` when it is only ever named
/// from inside a PID namespace; its role as the story first names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    pub name: String,
    pub role: Option<String>,
}

impl fmt::Display for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.role {
            Some(role) => write!(f, "{} ({role})", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// What put a process in a namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The story says it is there.
    Seen,
    /// Its own unshare(2).
    Unshare,
    /// Its own setns(2).
    Setns,
}

impl Via {
    pub fn call(self) -> Option<&'static str> {
        match self {
            Via::Seen => None,
            Via::Unshare => Some("unshare"),
            Via::Setns => Some("setns"),
        }
    }
}

/// One namespace type of one process on one line: from `old` (none: first
/// seen) to `new`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub old: Option<Ns>,
    pub new: Ns,
}

/// A line of the story that showed a process somewhere new.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// 1-based, in the story as printed (a snapshot's body).
    pub line: usize,
    /// The last line of a run of lines that each showed one more type (a
    /// table), else `line`.
    pub last_line: usize,
    pub process: usize,
    pub via: Via,
    pub changes: Vec<Change>,
    /// Every namespace the process was known to be in after this line, in
    /// type order.
    pub state: Vec<Ns>,
}

/// The map of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Map {
    /// The user namespace a run without root entered before its story
    /// (`not root (uid 1000): entered a new user namespace user:[A]`): every
    /// namespace of the map belongs to it.
    pub entered: Option<Ns>,
    /// Every process the story named, in order of appearance; those never
    /// seen in a namespace too (see [`Map::placed`]).
    pub processes: Vec<Process>,
    pub events: Vec<Event>,
}

/// How the stories name a process: `process <P1>`.
const PROCESS: &str = "process ";
/// `/proc/PID/status`'s NSpid, as the stories print it: `NSpid: process
/// <P2> in pid:[A], PID 1 in pid:[B]`.
const NSPID_LIST: &str = "NSpid: process ";
/// The same, read by the process about itself.
const NSPID_SELF: &str = "/proc/self/status NSpid: process ";

/// How `workbook::userns` says a run without root began.
const ENTERED: &str = "entered a new user namespace ";

/// The order of types in a map: the user namespace first (it owns the
/// others), then as namespaces(7) lists them.
const TYPE_ORDER: &[&str] =
    &["user", "mnt", "uts", "ipc", "net", "pid", "cgroup", "time"];

pub fn type_rank(kind: &str) -> usize {
    TYPE_ORDER
        .iter()
        .position(|t| *t == kind)
        .unwrap_or(TYPE_ORDER.len())
}

impl Map {
    /// The processes seen in at least one namespace, by index.
    pub fn placed(&self) -> Vec<usize> {
        let mut seen: Vec<usize> = self.events.iter().map(|e| e.process).collect();
        seen.sort_unstable();
        seen.dedup();
        seen
    }

    /// Each namespace, in type then label order, with the processes seen in
    /// it (in order of arrival) and the line each arrived on.
    pub fn members(&self) -> Vec<(Ns, Vec<(usize, usize)>)> {
        let mut by_ns: BTreeMap<(usize, Ns), Vec<(usize, usize)>> = BTreeMap::new();
        for e in &self.events {
            for c in &e.changes {
                let key = (type_rank(&c.new.kind), c.new.clone());
                let members = by_ns.entry(key).or_default();
                if !members.iter().any(|(p, _)| *p == e.process) {
                    members.push((e.process, e.line));
                }
                if let Some(old) = &c.old {
                    let key = (type_rank(&old.kind), old.clone());
                    let members = by_ns.entry(key).or_default();
                    if !members.iter().any(|(p, _)| *p == e.process) {
                        members.push((e.process, e.line));
                    }
                }
            }
        }
        by_ns.into_iter().map(|((_, ns), m)| (ns, m)).collect()
    }
}

/// A snapshot's body: the text after insta's `---` header, if it has one.
pub fn snapshot_body(text: &str) -> &str {
    if let Some(rest) = text.strip_prefix("---\n")
        && let Some(end) = rest.find("\n---\n")
    {
        return &rest[end + 5..];
    }
    text
}

/// Read a normalised story. Never fails: a line it cannot place adds
/// nothing.
pub fn parse(story: &str) -> Map {
    let mut p = Parser::default();
    for (index, line) in story.lines().enumerate() {
        p.line(index + 1, line);
    }
    p.map
}

#[derive(Default)]
struct Parser {
    map: Map,
    /// Process name or `PID n (role)` -> index.
    names: BTreeMap<String, usize>,
    /// `PID n` as an NSpid list named it -> the process it is.
    aliases: BTreeMap<String, usize>,
    /// What each process is known to be in, by type.
    state: Vec<BTreeMap<String, Ns>>,
    /// The subject of the last unindented line, for indented ones.
    subject: Option<usize>,
    /// The number of the last unindented line: the indented ones after it
    /// are its block (a table).
    block: usize,
}

/// What every clause of a line shares.
#[derive(Clone, Copy)]
struct Line<'a> {
    text: &'a str,
    /// The line's process: its own, or the last unindented line's.
    subject: usize,
    /// Where the text after `process <P1> (role): ` begins; 0 when the line
    /// does not begin with its process.
    body_at: usize,
    indented: bool,
    /// Where `NSpid: ` is, in a line that lists one.
    nspid: Option<usize>,
}

/// A process named in a line.
#[derive(Debug)]
enum Mention {
    /// `process <P2> (witness)`: the label and the role, if named.
    Process(String, Option<String>),
    Pid(String),
    This,
}

/// A namespace written in a line: its span and the word just before it.
#[derive(Debug)]
struct Token {
    start: usize,
    end: usize,
    ns: Ns,
    /// `time_for_children` in `time_for_children time:[B]`: the word
    /// before the token, with its space.
    qualifier: usize,
    for_children: bool,
}

impl Parser {
    fn process(&mut self, name: &str, role: Option<&str>) -> usize {
        let key = match role {
            Some(role) if name.starts_with("PID ") => format!("{name} ({role})"),
            _ => name.to_owned(),
        };
        if let Some(&i) = self.names.get(&key) {
            return i;
        }
        // `PID 1 (init)`: the process an NSpid list named `PID 1`.
        let i = match self.aliases.get(name) {
            Some(&i) if name.starts_with("PID ") => i,
            _ => {
                self.map.processes.push(Process {
                    name: name.to_owned(),
                    role: None,
                });
                self.state.push(BTreeMap::new());
                self.map.processes.len() - 1
            }
        };
        self.bind(key, i, role);
        i
    }

    fn bind(&mut self, key: String, i: usize, role: Option<&str>) {
        self.names.insert(key, i);
        if let Some(role) = role
            && self.map.processes[i].role.is_none()
        {
            self.map.processes[i].role = Some(role.to_owned());
        }
    }

    fn line(&mut self, number: usize, line: &str) {
        if line.starts_with("not root (")
            && let Some(at) = line.find(ENTERED)
            && let Some(token) = tokens(&line[at + ENTERED.len()..]).first()
            && token.ns.kind == "user"
        {
            self.map.entered.get_or_insert(token.ns.clone());
        }
        let indented = line.starts_with(' ');
        if let Some((ns, labels)) = members_row(line) {
            let found = labels
                .iter()
                .map(|label| (self.process(label, None), ns.clone(), Via::Seen))
                .collect();
            self.subject = None;
            self.block = number;
            self.record(number, found, false);
            return;
        }
        let (subject, body_at) = if indented {
            (self.subject, 0)
        } else {
            match leading_subject(line) {
                Some((name, role, end)) => {
                    // `PID 1 (nested): /proc/self/status NSpid: process <P3>`
                    // says which process the line's subject is.
                    let own = line.find(NSPID_SELF).and_then(|at| {
                        process_label(&line[at + NSPID_SELF.len()..])
                    });
                    let i = match own {
                        Some(label) => {
                            let i = self.process(&label, None);
                            let key = match role {
                                Some(ref r) => format!("{name} ({r})"),
                                None => name.clone(),
                            };
                            self.bind(key, i, role.as_deref());
                            i
                        }
                        None => self.process(&name, role.as_deref()),
                    };
                    (Some(i), end)
                }
                None => (None, 0),
            }
        };
        self.subject = subject;
        if !indented {
            self.block = number;
        }
        let Some(subject) = subject else { return };
        let mut found: Vec<(usize, Ns, Via)> = Vec::new();
        let ctx = Line {
            text: line,
            subject,
            body_at,
            indented,
            nspid: line.find(NSPID_LIST),
        };
        let mut clause_start = 0;
        for clause in line.split_inclusive(';') {
            let start = clause_start;
            clause_start += clause.len();
            self.clause(&ctx, start, clause, &mut found);
        }
        if ctx.nspid.is_some() {
            // The innermost PID namespace only: the process is in it (and
            // seen from the outer ones).
            let last_pid = found.iter().rposition(|(_, ns, _)| ns.kind == "pid");
            let mut i = 0;
            found.retain(|(_, ns, _)| {
                i += 1;
                ns.kind != "pid" || Some(i - 1) == last_pid
            });
        }
        self.record(number, found, indented);
    }

    /// The namespaces `clause` (at `start` in the line) puts a process in.
    fn clause(
        &mut self,
        line: &Line<'_>,
        start: usize,
        clause: &str,
        found: &mut Vec<(usize, Ns, Via)>,
    ) {
        let tokens = tokens(clause);
        let mut chains: Vec<Vec<&Token>> = Vec::new();
        for t in &tokens {
            let joins = chains.last().and_then(|c| c.last()).is_some_and(|prev| {
                let gap = &clause[prev.end..t.start - t.qualifier];
                matches!(gap.trim(), "" | ",")
            });
            match joins {
                true => chains.last_mut().map(|c| c.push(t)),
                false => {
                    chains.push(vec![t]);
                    None
                }
            };
        }
        for chain in chains {
            let first = chain[0];
            let lead = &clause[..first.start - first.qualifier];
            let after = &clause[chain[chain.len() - 1].end..];
            let owner_and_via = self.classify(line, start, lead, after, first);
            let Some((owner, via)) = owner_and_via else {
                continue;
            };
            // The types the call's flags name (`unshare(CLONE_NEWUTS)`):
            // a token of another type on its line was not its doing.
            let named = match via {
                Via::Seen => Vec::new(),
                _ => call_types(lead),
            };
            for t in chain {
                if t.for_children {
                    continue;
                }
                // `X -> Y` after unshare: X is where it was.
                let via = match after.trim_start().starts_with("->") {
                    true => Via::Seen,
                    false
                        if !named.is_empty()
                            && !named.contains(&t.ns.kind.as_str()) =>
                    {
                        Via::Seen
                    }
                    false => via,
                };
                found.push((owner, t.ns.clone(), via));
            }
        }
    }

    /// Whose namespaces a chain of tokens names, and how it got there.
    fn classify(
        &mut self,
        line: &Line<'_>,
        start: usize,
        lead: &str,
        after: &str,
        first: &Token,
    ) -> Option<(usize, Via)> {
        let Line {
            text,
            subject,
            body_at,
            indented,
            nspid,
        } = *line;
        let lead_trim = lead.trim_end();
        // `in uts:[A]`, `looks from uts:[A]`.
        let word_before = lead_trim.rsplit(' ').next().unwrap_or("");
        if matches!(word_before, "in" | "from") {
            let words: Vec<&str> = lead_trim.split(' ').collect();
            let n = words.len();
            if n >= 2 && words[n - 2] == "born" {
                return None;
            }
            let number = n >= 2 && words[n - 2].chars().all(|c| c.is_ascii_digit());
            if n >= 3 && number && matches!(words[n - 3], "uid" | "gid") {
                return None;
            }
            let owner = match self.last_mention(lead) {
                Some(Mention::Process(label, role)) => {
                    let i = self.process(&label, None);
                    self.bind(label, i, role.as_deref());
                    i
                }
                Some(Mention::Pid(pid)) => {
                    // `NSpid: process <P2> in pid:[A], PID 1 in pid:[B]`.
                    let listed =
                        nspid.filter(|at| *at < start + lead.len()).and_then(|at| {
                            process_label(&text[at + NSPID_LIST.len()..])
                        });
                    match listed {
                        Some(label) => {
                            let i = self.process(&label, None);
                            self.aliases.insert(pid, i);
                            i
                        }
                        None => self.process(&pid, None),
                    }
                }
                Some(Mention::This) => subject,
                // `held by process <P8>'s pid_for_children; it is in
                // pid:[D]`: the last process the line named before.
                None if n >= 3 && words[n - 3] == "it" && words[n - 2] == "is" => {
                    match self.last_mention(&text[..start + lead.len()]) {
                        Some(Mention::Process(label, _)) => {
                            self.process(&label, None)
                        }
                        _ => subject,
                    }
                }
                None => subject,
            };
            return Some((owner, Via::Seen));
        }
        // `unshare(...) -> uts:[B]`, `setns(...) -> uts:[B]`, and
        // `unshare(...): net:[A] -> net:[B]`.
        let call = lead
            .rfind("setns(")
            .map(|at| (at, Via::Setns))
            .into_iter()
            .chain(lead.rfind("unshare(").map(|at| (at, Via::Unshare)))
            .max_by_key(|(at, _)| *at);
        if let Some((_, via)) = call {
            let arrow = lead_trim.ends_with("->");
            let before_arrow =
                lead_trim.ends_with(':') && after.trim_start().starts_with("->");
            if arrow || before_arrow {
                return Some((subject, via));
            }
        }
        // `process <P1> (joiner): uts:[A] net:[A]`.
        if !indented && start == 0 && body_at > 0 && lead.len() <= body_at + 1 {
            let rest = &lead[body_at.min(lead.len())..];
            if rest.trim().is_empty() {
                return Some((subject, Via::Seen));
            }
        }
        // `  uts   uts:[A]` or `  uts   same as parent  uts:[A]`.
        let row = &lead[..lead.len().min(first.start)];
        let row_head = row.split_whitespace().next();
        let qualified_row =
            lead.trim().is_empty() && first.qualifier > 0 && !first.for_children;
        if indented && (row_head == Some(first.ns.kind.as_str()) || qualified_row) {
            return Some((subject, Via::Seen));
        }
        None
    }

    /// The last process named in `text`.
    fn last_mention(&self, text: &str) -> Option<Mention> {
        let mut best: Option<(usize, Mention)> = None;
        let mut consider = |at: usize, m: Mention| {
            if best.as_ref().is_none_or(|(b, _)| at > *b) {
                best = Some((at, m));
            }
        };
        for (at, _) in text.match_indices(PROCESS) {
            if let Some(label) = process_label(&text[at + PROCESS.len()..]) {
                let after = &text[at + PROCESS.len() + label.len()..];
                let role = after
                    .strip_prefix(" (")
                    .and_then(|r| r.find(')').map(|close| r[..close].to_owned()));
                consider(at, Mention::Process(label, role));
            }
        }
        for (at, _) in text.match_indices("PID ") {
            let boundary = text[..at]
                .chars()
                .last()
                .is_none_or(|c| !c.is_ascii_alphanumeric());
            let digits: String = text[at + 4..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if boundary && !digits.is_empty() {
                consider(at, Mention::Pid(format!("PID {digits}")));
            }
        }
        for phrase in ["this process", "this one"] {
            if let Some(at) = text.rfind(phrase) {
                consider(at, Mention::This);
            }
        }
        best.map(|(_, m)| m)
    }

    fn record(&mut self, line: usize, found: Vec<(usize, Ns, Via)>, indented: bool) {
        // One event per process per line and way (seen, or each call).
        let mut order: Vec<usize> = Vec::new();
        let mut changes: BTreeMap<usize, Vec<(Change, Via)>> = BTreeMap::new();
        // Types a call on this line moved: a later `still in` of the same
        // line is about something else (`the first one is still in
        // net:[B]`: a socket).
        let mut called: Vec<(usize, String)> = Vec::new();
        for (process, ns, via) in found {
            if !order.contains(&process) {
                order.push(process);
            }
            if via == Via::Seen && called.contains(&(process, ns.kind.clone())) {
                continue;
            }
            let list = changes.entry(process).or_default();
            if via != Via::Seen {
                called.push((process, ns.kind.clone()));
            }
            match list.iter_mut().find(|(c, _)| c.new.kind == ns.kind) {
                Some((c, how)) => {
                    if c.new != ns {
                        if c.old.is_none() {
                            c.old = Some(c.new.clone());
                        }
                        c.new = ns;
                    }
                    // `unshare(...): net:[A] -> net:[B]`: the call's move.
                    if via != Via::Seen {
                        *how = via;
                    }
                }
                None => list.push((
                    Change {
                        old: self.state[process].get(&ns.kind).cloned(),
                        new: ns,
                    },
                    via,
                )),
            }
        }
        for process in order {
            let Some(mut list) = changes.remove(&process) else {
                continue;
            };
            list.retain(|(c, _)| c.old.as_ref() != Some(&c.new));
            // In order of first appearance on the line: what it was seen
            // in, and what each call moved (`in pid:[B], ...; unshare(
            // CLONE_NEWUTS) -> uts:[C]`: the call moved uts only).
            let mut ways: Vec<Via> = Vec::new();
            for (_, via) in &list {
                if !ways.contains(via) {
                    ways.push(*via);
                }
            }
            for via in ways {
                let mut part: Vec<Change> = list
                    .iter()
                    .filter(|(_, v)| *v == via)
                    .map(|(c, _)| c.clone())
                    .collect();
                part.sort_by_key(|c| type_rank(&c.new.kind));
                self.push(line, process, via, part, indented);
            }
        }
    }

    /// One event: `list` applied to the process's state.
    fn push(
        &mut self,
        line: usize,
        process: usize,
        via: Via,
        list: Vec<Change>,
        indented: bool,
    ) {
        for c in &list {
            self.state[process].insert(c.new.kind.clone(), c.new.clone());
        }
        let mut state: Vec<Ns> = self.state[process].values().cloned().collect();
        state.sort_by_key(|ns| type_rank(&ns.kind));
        // A table (chapter 1's rows, one type a line): one event.
        let block = self.block;
        if let Some(last) = self.map.events.last_mut()
            && indented
            && last.line > block
            && last.process == process
            && last.via == Via::Seen
            && via == Via::Seen
            && list.iter().all(|c| c.old.is_none())
        {
            last.changes.extend(list);
            last.changes.sort_by_key(|c| type_rank(&c.new.kind));
            last.state = state;
            last.last_line = line;
            return;
        }
        self.map.events.push(Event {
            line,
            last_line: line,
            process,
            via,
            changes: list,
            state,
        });
    }
}

/// The namespace types the last `unshare(` or `setns(` call in `lead`
/// names by flag: `unshare(CLONE_NEWUTS | CLONE_NEWIPC)` -> uts, ipc. None
/// for `setns(fd, 0)`, which joins whatever type the fd is.
fn call_types(lead: &str) -> Vec<&'static str> {
    let at = [lead.rfind("unshare("), lead.rfind("setns(")]
        .into_iter()
        .flatten()
        .max();
    let Some(at) = at else {
        return Vec::new();
    };
    let args = &lead[at..];
    let args = &args[..args.find(')').unwrap_or(args.len())];
    let flags: &[(&str, &str)] = &[
        ("CLONE_NEWUSER", "user"),
        ("CLONE_NEWNS", "mnt"),
        ("CLONE_NEWUTS", "uts"),
        ("CLONE_NEWIPC", "ipc"),
        ("CLONE_NEWNET", "net"),
        ("CLONE_NEWPID", "pid"),
        ("CLONE_NEWCGROUP", "cgroup"),
        ("CLONE_NEWTIME", "time"),
    ];
    flags
        .iter()
        .filter(|(flag, _)| {
            args.split(|c: char| !(c.is_ascii_uppercase() || c == '_'))
                .any(|word| word == *flag)
        })
        .map(|(_, kind)| *kind)
        .collect()
}

/// A row that lists a namespace's processes, as chapter 14's tree does
/// (`├─pid:[A] ns_id <I3>: process <P1>, process <P2>`): the namespace
/// and the processes' labels.
fn members_row(line: &str) -> Option<(Ns, Vec<String>)> {
    let row = line.trim_start_matches([' ', '│', '├', '└', '─']);
    let first = tokens(row).into_iter().next()?;
    if first.start != 0 {
        return None;
    }
    let (_, list) = row.rsplit_once(": ")?;
    let mut labels = Vec::new();
    for item in list.split(", ") {
        let label = process_label(item.strip_prefix(PROCESS)?)?;
        if item.len() != PROCESS.len() + label.len() {
            return None;
        }
        labels.push(label);
    }
    Some((first.ns, labels))
}

/// `process <P1> (role)` or `PID 1 (role)` at the start of a line: the
/// name, the role, and where the rest of the line begins (after `: `).
fn leading_subject(line: &str) -> Option<(String, Option<String>, usize)> {
    let (name, mut at) = if line.starts_with("process <") {
        let label = process_label(&line[PROCESS.len()..])?;
        let len = PROCESS.len() + label.len();
        (label, len)
    } else if let Some(rest) = line.strip_prefix("PID ") {
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if digits.is_empty() {
            return None;
        }
        (format!("PID {digits}"), 4 + digits.len())
    } else {
        return None;
    };
    let mut role = None;
    if let Some(rest) = line[at..].strip_prefix(" (")
        && let Some(close) = rest.find(')')
    {
        role = Some(rest[..close].to_owned());
        at += 2 + close + 1;
    }
    if line[at..].starts_with(": ") {
        at += 2;
    }
    Some((name, role, at))
}

/// `<P12>` at the start of `text`.
fn process_label(text: &str) -> Option<String> {
    let rest = text.strip_prefix("<P")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let closed = rest[digits.len()..].starts_with('>');
    (!digits.is_empty() && closed).then(|| format!("<P{digits}>"))
}

/// Every `kind:[LABEL]` in `text`, with the word just before it.
fn tokens(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    for (at, _) in text.match_indices(":[") {
        let before = &text[..at];
        let kind_start = before
            .rfind(|c: char| !(c.is_ascii_lowercase() || c == '_'))
            .map_or(0, |i| i + 1);
        let kind = &before[kind_start..];
        let rest = &text[at + 2..];
        let Some(close) = rest.find(']') else {
            continue;
        };
        let label = &rest[..close];
        let valid = !kind.is_empty()
            && !label.is_empty()
            && label.chars().all(|c| c.is_ascii_alphanumeric());
        if !valid {
            continue;
        }
        // The word before, with the spaces after it.
        let head = &text[..kind_start];
        let spaces = head.len() - head.trim_end_matches(' ').len();
        let word_part = head.trim_end_matches(' ');
        let word_start = word_part
            .rfind(|c: char| !(c.is_ascii_lowercase() || c == '_'))
            .map_or(0, |i| i + 1);
        let word = &word_part[word_start..];
        let for_children = word.ends_with("_for_children");
        let qualifier = match (for_children || word == kind) && spaces > 0 {
            true => word.len() + spaces,
            false => 0,
        };
        out.push(Token {
            start: kind_start,
            end: at + 2 + close + 1,
            ns: Ns {
                kind: kind.to_owned(),
                label: label.to_owned(),
            },
            qualifier,
            for_children,
        });
    }
    out
}
