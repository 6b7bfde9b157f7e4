#!/usr/bin/env python3
"""Write the book's diagrams, src/images/*.svg: `python3 book/diagrams.py`.

Narrow (380 units wide), stacked top to bottom, text at 13-16 units: on a
420 px phone a diagram is drawn at about its own size, so the text stays
readable; on a desktop it grows to at most 480 px. Text uses currentColor, so
the diagrams follow mdBook's light and dark themes. Edit here, not the SVGs.
"""
from html import escape
from pathlib import Path

W = 380
MONO = "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace"
BLUE, AMBER, GREY = "#3b82f6", "#f59e0b", "#9ca3af"


class Svg:
    def __init__(self, ident, title, desc):
        self.id, self.title, self.desc = ident, title, desc
        self.parts, self.y = [], 0

    def text(self, x, y, s, size=14, mono=False, bold=False, anchor=None,
             faint=False):
        attrs = [f'x="{x}"', f'y="{y}"', f'font-size="{size}"',
                 'fill="currentColor"']
        if s.startswith(" "):
            attrs.append('style="white-space: pre"')
        if mono:
            attrs.append(f'font-family="{MONO}"')
        if bold:
            attrs.append('font-weight="bold"')
        if anchor:
            attrs.append(f'text-anchor="{anchor}"')
        if faint:
            attrs.append('fill-opacity="0.55"')
        self.parts.append(f'<text {" ".join(attrs)}>{escape(s)}</text>')

    def heading(self, s):
        self.y += 28
        self.text(10, self.y, s, size=16, bold=True)
        self.y += 10

    def note(self, lines, size=14, mono=False):
        for line in lines:
            self.y += 19
            self.text(10, self.y, line, size=size, mono=mono)
        self.y += 6

    def ns_box(self, label, lines, procs, color, faint_box=False):
        """A namespace: its name, some lines, then processes side by side."""
        top = self.y + 4
        h = 30 + 20 * len(lines) + (56 if procs else 0) + 8
        dash = ' stroke-dasharray="6 5"' if faint_box else ""
        self.parts.append(
            f'<rect x="10" y="{top}" width="{W - 20}" height="{h}" rx="10" '
            f'fill="{color}" fill-opacity="0.13" stroke="{color}" '
            f'stroke-width="2"{dash}/>')
        y = top + 24
        self.text(22, y, label, size=16, mono=True, bold=True)
        for line in lines:
            y += 20
            self.text(22, y, line, size=14, mono=True)
        if procs:
            y += 10
            pw, gap = 160, 16
            for i, (name, role, ghost) in enumerate(procs):
                x = 22 + i * (pw + gap)
                extra = (' stroke-opacity="0.5" stroke-dasharray="4 4"'
                         if ghost else "")
                self.parts.append(
                    f'<rect x="{x}" y="{y}" width="{pw}" height="46" rx="6" '
                    f'fill="none" stroke="currentColor" stroke-width="1.5"'
                    f'{extra}/>')
                self.text(x + pw / 2, y + 20, name, size=14, mono=True,
                          anchor="middle", faint=ghost)
                self.text(x + pw / 2, y + 38, role, size=13, anchor="middle",
                          faint=ghost)
        self.y = top + h

    def step(self, lines, label=None):
        """An arrow down, with the call beside it."""
        top = self.y + 6
        n = len(lines)
        bottom = top + max(34, 20 * n + 10)
        self.parts.append(
            f'<line x1="26" y1="{top}" x2="26" y2="{bottom}" '
            f'stroke="currentColor" stroke-width="1.5" '
            f'marker-end="url(#{self.id}-arrow)"/>')
        y = top + 4
        for i, line in enumerate(lines):
            y += 18
            self.text(44, y, line, size=14, mono=True)
        self.y = bottom + 4

    def render(self):
        h = self.y + 12
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {h}" '
            f'font-family="system-ui, -apple-system, \'Segoe UI\', Roboto, sans-serif" '
            f'xml:space="preserve" role="img" aria-labelledby="{self.id}-title {self.id}-desc" '
            f'style="display: block; width: 100%; max-width: 480px; height: auto; '
            f'margin: 1em auto;">\n'
            f'<title id="{self.id}-title">{escape(self.title)}</title>\n'
            f'<desc id="{self.id}-desc">{escape(self.desc)}</desc>\n'
            f'<defs><marker id="{self.id}-arrow" viewBox="0 0 10 10" refX="9" '
            f'refY="5" markerWidth="7" markerHeight="7" '
            f'orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" '
            f'fill="currentColor"/></marker></defs>\n')
        return head + "\n".join(self.parts) + "\n</svg>\n"


def ch02():
    s = Svg("ch02", "unshare(2): the example moves itself; the witness stays",
            "Before: process <P1> and its witness <P2> are both in mnt:[A] "
            "uts:[A]. After unshare(CLONE_NEWNS | CLONE_NEWUTS), <P1> is alone "
            "in the new mnt:[B] uts:[B], with a tmpfs and the hostname "
            "ch02-uts; the witness is still in mnt:[A] uts:[A].")
    s.heading("Before")
    s.ns_box("mnt:[A] uts:[A]", ['hostname "<host>"'],
             [("process <P1>", "the example", False),
              ("process <P2>", "witness", False)], BLUE)
    s.step(["process <P1>:", "unshare(CLONE_NEWNS |", "        CLONE_NEWUTS)"])
    s.heading("After")
    s.ns_box("mnt:[A] uts:[A]", ['hostname "<host>"'],
             [("process <P1>", "left", True),
              ("process <P2>", "witness: no tmpfs", False)], BLUE)
    s.y += 8
    s.ns_box("mnt:[B] uts:[B]", ['hostname "ch02-uts"', "tmpfs on",
                                 "$TMP/ch02-unshare.XXXXXX"],
             [("process <P1>", "the example", False)], AMBER)
    return s


def ch03():
    s = Svg("ch03", "clone(2) with CLONE_NEWUTS: a child born in a new UTS namespace",
            "Before: the parent <P1> is in uts:[A] with the host's hostname. "
            "After clone(CLONE_NEWUTS | SIGCHLD), the parent is still in "
            "uts:[A]; the child <P2> is in a new uts:[B], where it sets the "
            "hostname ernie. The parent waits for it.")
    s.heading("Before")
    s.ns_box("uts:[A]", ['hostname "<host>"'],
             [("process <P1>", "parent", False)], BLUE)
    s.step(["process <P1>:", "clone(CLONE_NEWUTS | SIGCHLD)",
            "a child, in a new UTS namespace"])
    s.heading("After")
    s.ns_box("uts:[A]", ['hostname "<host>", unchanged'],
             [("process <P1>", "parent: waitpid", False)], BLUE)
    s.y += 8
    s.ns_box("uts:[B]", ['hostname "ernie"'],
             [("process <P2>", "child, own stack", False)], AMBER)
    s.note(["When process <P2> exits, nothing refers",
            "to uts:[B] any more: the kernel frees it."])
    return s


def ch04():
    s = Svg("ch04", "setns(2) through /proc/PID/ns/uts: the joiner moves into the target's UTS namespace",
            "Before: the joiner <P1> is in uts:[A]; the target <P2> is in "
            "uts:[B] with hostname ch04-target, and <P1> holds a descriptor of "
            "/proc/<P2>/ns/uts. After setns(uts_fd, CLONE_NEWUTS), <P1> is in "
            "uts:[B] with the target.")
    s.heading("Before")
    s.ns_box("uts:[A]", ['hostname "<host>"'],
             [("process <P1>", "joiner", False)], BLUE)
    s.y += 8
    s.ns_box("uts:[B]", ['hostname "ch04-target"'],
             [("process <P2>", "target", False)], AMBER)
    s.step(["process <P1>:", 'uts_fd = open("/proc/<P2>/ns/uts")',
            "setns(uts_fd, CLONE_NEWUTS)"])
    s.heading("After")
    s.ns_box("uts:[A]", ['hostname "<host>"'],
             [("process <P1>", "left", True)], BLUE)
    s.y += 8
    s.ns_box("uts:[B]", ['hostname "ch04-target"'],
             [("process <P1>", "joiner", False),
              ("process <P2>", "target", False)], AMBER)
    s.note(["Then process <P2> exits; uts:[B] lives on,",
            "because process <P1> is in it."])
    return s


def ch05():
    s = Svg("ch05", "setns(2) with a pidfd: two namespaces in one call, or none",
            "Before: the joiner <P1> is in uts:[A] net:[A]; the target <P2> is "
            "in uts:[B] net:[B]; both are in the same user namespace, "
            "user:[A]. <P1> holds a pidfd of <P2>. setns(pidfd, CLONE_NEWUTS "
            "| CLONE_NEWUSER | CLONE_NEWNET) fails with EINVAL and moves "
            "nothing. setns(pidfd, CLONE_NEWUTS | CLONE_NEWNET) moves <P1> "
            "into uts:[B] net:[B].")
    s.heading("Before (both in user:[A])")
    s.ns_box("uts:[A] net:[A]", ['hostname "<host>"'],
             [("process <P1>", "joiner", False)], BLUE)
    s.y += 8
    s.ns_box("uts:[B] net:[B]", ['hostname "ch05-target"'],
             [("process <P2>", "target", False)], AMBER)
    s.step(["process <P1>:", "pidfd = pidfd_open(<P2>, 0)"])
    s.heading("1. One namespace too many")
    s.note(["setns(pidfd, CLONE_NEWUTS |", "  CLONE_NEWUSER | CLONE_NEWNET)"],
           mono=True)
    s.note(["EINVAL: user:[A] is our own and cannot",
            "be re-entered. Nothing moves, not even",
            "UTS or NET."])
    s.heading("2. The two that can be joined")
    s.step(["setns(pidfd,", "  CLONE_NEWUTS | CLONE_NEWNET)"])
    s.heading("After")
    s.ns_box("uts:[A] net:[A]", ['hostname "<host>"'],
             [("process <P1>", "left both", True)], BLUE)
    s.y += 8
    s.ns_box("uts:[B] net:[B]", ['hostname "ch05-target"'],
             [("process <P1>", "joiner", False),
              ("process <P2>", "target", False)], AMBER)
    return s


def ch06():
    s = Svg("ch06", "A bind mount keeps a UTS namespace alive with no process in it",
            "1: process A (<P2>) unshares uts:[B], sets the hostname "
            "ch06-persisted and bind-mounts /proc/self/ns/uts onto a file. "
            "2: A exits; no process is in uts:[B], but the bind mount still "
            "refers to it. Process B (<P3>) opens the file and joins uts:[B] "
            "with setns. 3: umount2 drops the last reference and the kernel "
            "frees uts:[B].")
    s.heading("1. A makes uts:[B], binds it on a file")
    s.ns_box("uts:[B]", ['hostname "ch06-persisted"',
                         "bind-mounted on",
                         "$TMP/ch06-persist.XXXXXX/uts"],
             [("process <P2>", "A", False)], AMBER)
    s.heading("2. A exits; only the mount holds it")
    s.ns_box("uts:[B]", ['hostname "ch06-persisted"',
                         "still mounted on the file"],
             [("process <P3>", "B: open + setns", False)], AMBER)
    s.heading('3. umount2("...", 0)')
    s.ns_box("uts:[B]", ["the last reference is gone:", "freed by the kernel"],
             [], GREY, faint_box=True)
    s.note(["All in a private mount namespace of the",
            "example's own, on a tmpfs that exists only",
            "there: the host never sees it."])
    return s


def ch07():
    s = Svg("ch07", "A user namespace: the overflow uid until its parent maps it, and the UTS namespace it owns",
            "1: <P1> in user:[A] clones <P2> into user:[B]; with no map, <P2> "
            "is uid 65534 with every capability, in user:[B] only. 2: <P1> "
            "writes /proc/<P2>/setgroups, uid_map and gid_map; <P2> is uid 0. "
            "3: user:[A] owns the host's uts:[A], where <P2>'s sethostname "
            "fails with EPERM; the uts:[B] that <P2> creates belongs to "
            "user:[B], and sethostname works there.")
    s.heading("1. clone(CLONE_NEWUSER)")
    s.ns_box("user:[B], child of user:[A]", ["no map yet: getuid() -> 65534",
                                             "CapEff: every capability"],
             [("process <P2>", "child", False)], AMBER)
    s.step(["process <P1>, outside, writes", "/proc/<P2>/setgroups \"deny\"",
            "/proc/<P2>/uid_map \"0 65534 1\"", "/proc/<P2>/gid_map \"0 65534 1\""])
    s.heading("2. Each namespace has an owner")
    s.ns_box("user:[A]", ["owns uts:[A], the host's:",
                          "<P2>'s sethostname: EPERM"],
             [("process <P1>", "parent", False)], BLUE)
    s.y += 8
    s.ns_box("user:[B]", ["owns uts:[B], which <P2> made:",
                          'sethostname("ch07-child"): ok'],
             [("process <P2>", "uid 0 here", False)], AMBER)
    s.note(["ioctl(fd of uts:[B], NS_GET_USERNS)", "-> user:[B]"], mono=True)
    return s


def ch08():
    s = Svg("ch08", "A PID namespace: PID 1, an orphan, a nested namespace, and the end",
            "1: process <P1> calls unshare(CLONE_NEWPID) and stays in pid:[A]; "
            "its first child <P2> is PID 1 of pid:[B]. 2: in pid:[B], PID 1 "
            "reaps PID 3, an orphan, and a nested pid:[C] holds a process that "
            "is PID 5 in pid:[B] and PID 1 in pid:[C]. 3: <P1> kills <P2> with "
            "SIGKILL; the kernel kills the rest of pid:[B], and fork() into it "
            "fails with ENOMEM.")
    s.heading("1. unshare(CLONE_NEWPID), then fork()")
    s.ns_box("pid:[A]", ["pid_for_children: pid:[B]"],
             [("process <P1>", "the example, stays", False),
              ("process <P2>", "= PID 1 of B", False)], BLUE)
    s.heading("2. Inside: its own /proc lists [1, 3]")
    s.ns_box("pid:[B]", ["PID 2 exited: PID 3 is PID 1's now"],
             [("PID 1", "init: waitpid(-1)", False),
              ("PID 3", "orphan", False)], AMBER)
    s.ns_box("pid:[C]", ["nested: NSpid <P3> 5 1"],
             [("PID 1", "= PID 5 in B", False)], AMBER)
    s.heading("3. kill(<P2>, SIGKILL) from pid:[A]")
    s.ns_box("pid:[B]", ["the kernel kills every process in it",
                         "fork() into it: ENOMEM"],
             [], GREY, faint_box=True)
    return s


def ch09():
    s = Svg("ch09", "Propagation types, copies of a mount namespace, pivot_root",
            "In the example's own mount namespace: a and b are shared peers in "
            "group <G1>, c is a slave of that group, d is private, and a bind "
            "of an unbindable mount fails with EINVAL. A copy made by the same "
            "user namespace keeps a and b in <G1>: mounts travel both ways. A "
            "copy made after a new user namespace turns them into slaves "
            "(master:<G1>): mounts arrive, none leave. After pivot_root and a "
            "detach of the old root, the child's namespace holds one mount.")
    s.heading("1. Four propagation types")
    s.ns_box("mnt:[B]  the example's own", [
        "a shared:<G1> <-> b shared:<G1>",
        "c master:<G1>   receives only",
        "d private       neither way",
        "d unbindable    bind: EINVAL"], [], AMBER)
    s.heading("2. Copies of mnt:[B]")
    s.ns_box("same user namespace", ["a, b shared:<G1>: peers still,",
                                     "mounts go both ways"], [], BLUE)
    s.y += 8
    s.ns_box("a new user namespace first", ["a, b master:<G1>: slaves,",
                                            "mounts arrive, none leave"],
             [], BLUE)
    s.heading("3. pivot_root into root/")
    s.step(["bind root/ onto itself;", "/ private; pivot_root;",
            'umount2("/old", MNT_DETACH)'])
    s.ns_box("the child's copy", ["/ tmpfs: its only mount,",
                                  "no way back to the old root"], [], GREY)
    return s


def ch10():
    s = Svg("ch10", "Two network namespaces joined by a veth pair",
            "net:[B] (red) and net:[C] (blue) are new network namespaces, each "
            "with lo, down. One RTM_NEWLINK on red's socket creates veth-red "
            "and veth-blue in red; RTM_SETLINK with IFLA_NET_NS_FD moves "
            "veth-blue into blue. With 10.0.0.1/30 on veth-red and 10.0.0.2/30 "
            "on veth-blue, both up, a UDP datagram from blue's socket reaches "
            "red's. A bind mount of blue's nsfs file keeps it while nothing "
            "else does; once unmounted, the kernel frees blue and destroys "
            "both veth ends.")
    s.heading("1. Two new namespaces: lo only, down")
    s.ns_box("net:[B] red", ["1: lo <LOOPBACK> down"], [], BLUE)
    s.y += 8
    s.ns_box("net:[C] blue", ["1: lo <LOOPBACK> down"], [], AMBER)
    s.step(["RTM_NEWLINK on red's socket:", "veth-red + peer veth-blue"])
    s.step(["RTM_SETLINK(veth-blue,", "  IFLA_NET_NS_FD fd of blue)"])
    s.heading("2. One cable, an end in each")
    s.ns_box("net:[B] red", ["3: veth-red 10.0.0.1/30 UP",
                             "UDP socket 0.0.0.0:4242"], [], BLUE)
    s.note(['    ↕ "hello from blue"', "      (after one ARP exchange)"],
           mono=True)
    s.ns_box("net:[C] blue", ["2: veth-blue 10.0.0.2/30 UP",
                              "UDP socket 10.0.0.2:4242",
                              "bind-mounted on $TMP/.../netns/blue"],
             [], AMBER)
    s.heading("3. Unmounted: blue is freed")
    s.ns_box("net:[C] blue", ["freed: veth-blue destroyed,",
                              "and veth-red with it"], [], GREY,
             faint_box=True)
    s.note(["Every socket stays in the namespace it was",
            "made in; the host's links never change."])
    return s


def ch11():
    s = Svg("ch11", "IPC namespaces: a queue the old namespace cannot find",
            "Process <P1> leaves ipc:[A] for a new ipc:[B] with "
            "unshare(CLONE_NEWIPC | CLONE_NEWNS) and creates there a System V "
            "queue with key 0x0c110001 and a POSIX queue /ch11, which an "
            "mqueue mount in mnt:[B] lists. The witness <P2>, still in "
            "ipc:[A], asks for the same key and name: ENOENT.")
    s.heading("Before")
    s.ns_box("ipc:[A] mnt:[A]", ["no queue 0x0c110001, no /ch11"],
             [("process <P1>", "the example", False),
              ("process <P2>", "witness", False)], BLUE)
    s.step(["process <P1>:", "unshare(CLONE_NEWIPC |", "        CLONE_NEWNS)"])
    s.heading("After")
    s.ns_box("ipc:[A] mnt:[A]", ["no queue 0x0c110001, no /ch11",
                                 "msgget(0x0c110001, 0) -> ENOENT"],
             [("process <P1>", "left", True),
              ("process <P2>", "witness", False)], BLUE)
    s.y += 8
    s.ns_box("ipc:[B] mnt:[B]", ["queue 0x0c110001: msqid 0, qnum 1",
                                 "POSIX queue /ch11",
                                 "mqueue mount lists: ch11"],
             [("process <P1>", "the example", False)], AMBER)
    s.note(["An mqueue mount shows the IPC namespace of",
            "its mounter, at mount(2). The queues die",
            "with ipc:[B]: no IPC_RMID, no mq_unlink."])
    return s


def ch12():
    s = Svg("ch12", "A cgroup namespace shows /proc/PID/cgroup from the cgroup the process was in at unshare",
            "The host's view: process <P1> (parent) in cgroup <start>, process "
            "<P2> (child) in the child cgroup <start>/ch12.<owner>. After "
            "unshare(CLONE_NEWCGROUP) in <P2>, <P2> sees its own cgroup as / and "
            "<P1>'s as /..; moved back to <start> later, it sees itself in /.. "
            "because the root stays the cgroup it was in at the unshare.")
    s.heading("The host's view")
    s.ns_box("<start>", ["0::<start>"],
             [("process <P1>", "parent", False)], BLUE)
    s.y += 8
    s.ns_box("<start>/ch12.<owner>", ["0::<start>/ch12.<owner>"],
             [("process <P2>", "child", False)], AMBER)
    s.step(["process <P2>:", "unshare(CLONE_NEWCGROUP)"])
    s.heading("What process <P2> reads")
    s.ns_box("/..", ["/proc/<P1>/cgroup: 0::/.."], [], BLUE)
    s.y += 8
    s.ns_box("/  (the namespace's root)", ["/proc/self/cgroup: 0::/"], [], AMBER)
    s.note(["Moved back to <start> afterwards, process",
            "<P2> reads 0::/.. for itself: the root",
            "stays where it was at the unshare."])
    return s


def ch13():
    s = Svg("ch13", "A time namespace: the children first, the caller by setns(2)",
            "1: the parent <P1> in time:[A] calls unshare(CLONE_NEWTIME): it "
            "stays in time:[A]; only its time_for_children becomes the new "
            "time:[B], whose offsets it writes while no process is in it. "
            "2: its child <P2> is born in time:[B] and reads CLOCK_MONOTONIC "
            "and CLOCK_BOOTTIME 864000 s ahead; the offsets are frozen now. "
            "3: setns(time_fd, CLONE_NEWTIME) moves <P1> itself into time:[B].")
    s.heading("1. unshare(CLONE_NEWTIME), offsets")
    s.ns_box("time:[A]", ["offsets 0 0 (the host's)"],
             [("process <P1>", "parent", False)], BLUE)
    s.y += 8
    s.ns_box("time:[B]", ["time_for_children of <P1>",
                          "monotonic 864000 0",
                          "boottime  864000 0"], [], AMBER, faint_box=True)
    s.step(["fork()"])
    s.heading("2. The child is born in time:[B]")
    s.ns_box("time:[B]", ["CLOCK_MONOTONIC: host + 864000 s",
                          "CLOCK_REALTIME: the host's",
                          "offsets frozen: a write, EACCES"],
             [("process <P2>", "child", False)], AMBER)
    s.step(["setns(time_fd, CLONE_NEWTIME)"])
    s.heading("3. setns moves the caller itself")
    s.ns_box("time:[B]", ["time and time_for_children of <P1>"],
             [("process <P1>", "parent", False)], AMBER)
    return s


def ch14():
    s = Svg("ch14", "Owners, parents and where a walk up ends",
            "1: user:[A], where process <P1> is, owns uts:[A], ipc:[A] and "
            "pid:[A]; its child user:[B], made by <P2>, owns uts:[B], ipc:[B] "
            "and pid:[B]; user:[C], made by <P3>, PID 1 of pid:[B], owns "
            "uts:[C]. 2: NS_GET_PARENT from user:[C] reaches user:[B] and "
            "stops with EPERM when asked by <P2>, which is in user:[B]; asked "
            "by <P1> it reaches user:[A] and stops there with EPERM.")
    s.heading("1. Each user namespace owns the rest")
    s.ns_box("user:[A]", ["owns uts:[A], ipc:[A], pid:[A]"],
             [("process <P1>", "the example", False)], BLUE)
    s.step(["parent of"])
    s.ns_box("user:[B]", ["owns uts:[B], ipc:[B], pid:[B]",
                          "owner uid: yours from A, 0 from B"],
             [("process <P2>", "child", False)], AMBER)
    s.step(["parent of"])
    s.ns_box("user:[C]", ["owns uts:[C]", "<P3> is PID 1 of pid:[B]"],
             [("process <P3>", "grandchild", False)], AMBER)
    s.heading("2. NS_GET_PARENT from user:[C]")
    s.note(["asked by <P2>: C -> B -> EPERM",
            "asked by <P1>: C -> B -> A -> EPERM",
            "of uts:[C]: EINVAL, no parent",
            "NS_GET_NSTYPE of a file: ENOTTY"], mono=True)
    return s


def ch15():
    s = Svg("ch15", "What keeps a namespace alive, and the proof it died",
            "A keeper process <P2> makes uts:[A]; the parent <P1> takes its "
            "file handle, which holds nothing, and an fd, which holds it. "
            "When <P2> exits, open_by_handle_at with the handle still opens "
            "uts:[A], held by the fd alone. When the fd is closed, nothing "
            "holds it: open_by_handle_at fails with ESTALE, the kernel's "
            "proof that uts:[A] is gone.")
    s.heading("1. A keeper makes uts:[A]")
    s.ns_box("uts:[A]", ["ns_id 12345 (never reused)",
                         "held by: process <P2>, an fd of <P1>"],
             [("process <P2>", "keeper", False)], AMBER)
    s.note(["<P1> holds: the fd, and a file handle",
            "{ns_id 12345}, which holds nothing"], size=13)
    s.step(["<P2> exits"])
    s.heading("2. Held by the fd alone")
    s.ns_box("uts:[A]", ["held by: an fd of <P1>",
                         "open_by_handle_at -> fd: alive"],
             [("process <P2>", "exited", True)], AMBER)
    s.step(["close(fd)"])
    s.heading("3. Nothing holds it")
    s.ns_box("uts:[A]", ["freed (some holders go an RCU",
                         "grace period later: ask again)",
                         "open_by_handle_at -> ESTALE"], [], GREY,
             faint_box=True)
    return s


def ch16():
    s = Svg("ch16", "The container: one clone, the maps, a new root, PID 1",
            "1: the parent, process <P1>, in the host's namespaces (all [A]), "
            "clones process <P2> into seven new namespaces at once (all [B]); "
            "the new user namespace is made first and owns the six others. "
            "2: the parent writes <P2>'s uid_map and gid_map, then one byte on "
            "a pipe. 3: <P2>, PID 1 of pid:[B], builds a root on a tmpfs, "
            "pivot_roots into it, sets its hostname, brings lo up and execs "
            "the command, or forks it as PID 2 under a tiny init. The parent "
            "waits, forwards SIGINT and SIGTERM, and exits with the command's "
            "status.")
    s.heading("1. clone(CLONE_NEWUSER | ... | SIGCHLD)")
    s.ns_box("the host: all [A]", ["user pid mnt uts ipc net cgroup"],
             [("process <P1>", "the parent", False)], BLUE)
    s.step(["clone: the user namespace first,", "then the six it owns"])
    s.ns_box("user:[B] owns all [B]", ["pid mnt uts ipc net cgroup"],
             [("process <P2>", "= PID 1 of pid:[B]", False)], AMBER)
    s.heading("2. The parent writes the maps")
    s.note(["/proc/<P2>/uid_map: \"0 100000 1\" (root)",
            "  or \"0 UID 1\" (anyone else)",
            "then one byte on the pipe"], mono=True, size=13)
    s.heading("3. PID 1 builds its world")
    s.ns_box("mnt:[B]", ["/ = tmpfs, /usr read-only,",
                         "/proc new, /dev minimal; old / gone"],
             [], AMBER)
    s.ns_box("uts:[B], net:[B]", ["hostname ch16-container; lo UP"],
             [], AMBER)
    s.step(["execve(COMMAND): PID 1", "or --init: fork, PID 2 runs it"])
    s.ns_box("pid:[B]", ["sees only its own PIDs"],
             [("PID 1", "COMMAND or init", False),
              ("PID 2", "COMMAND (--init)", True)], AMBER)
    return s


for name, make in [("ch02-unshare", ch02), ("ch03-clone", ch03),
                   ("ch04-setns-proc", ch04), ("ch05-setns-pidfd", ch05),
                   ("ch06-bind-mount", ch06),
                   ("ch07-user-namespaces", ch07),
                   ("ch08-pid-namespaces", ch08),
                   ("ch09-mount-propagation", ch09),
                   ("ch10-veth-pair", ch10),
                   ("ch11-ipc-namespaces", ch11),
                   ("ch12-cgroupns", ch12),
                   ("ch13-time-namespaces", ch13),
                   ("ch14-namespace-relations", ch14),
                   ("ch15-namespace-lifetime", ch15),
                   ("ch16-container", ch16)]:
    out = Path(__file__).parent / "src" / "images" / f"{name}.svg"
    out.write_text(make().render())
