//! Chapter 1 against the kernel: the namespaces printed are the test's own
//! (the host's), and the child's are the same ones.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use testkit::{Example, User, assert_help, assert_usage_error, host_ns};

testkit::cases!(
    as_root,
    unprivileged,
    help_exits_0,
    extra_argument_is_a_usage_error,
);

fn example() -> Example {
    testkit::example!()
}

/// `(link, type:[inode])` for every namespace line, parent's then child's.
fn ns_lines(out: &str) -> Vec<(String, String)> {
    out.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let link = words.next()?;
            let id = words.next_back()?;
            (line.starts_with("  ") && id.ends_with(']'))
                .then(|| (link.to_owned(), id.to_owned()))
        })
        .collect()
}

fn check(user: User) {
    let Some(ran) = example().run(user, &[]) else {
        return;
    };
    let out = ran.success();
    let lines = ns_lines(out);
    assert_eq!(
        lines.len(),
        20,
        "10 links for the parent, 10 for the child:\n{out}"
    );
    let (parent, child) = lines.split_at(10);
    for (link, id) in parent {
        // The example starts in the namespaces of the test that ran it.
        assert_eq!(*id, host_ns(link), "parent's {link}");
    }
    assert_eq!(parent, child, "the child inherits every namespace");
    assert!(!out.contains("DIFFERENT"));
    insta::assert_snapshot!(user.to_string(), ran.normalized());
}

fn as_root() {
    check(User::Root);
}

fn unprivileged() {
    check(User::Unprivileged);
}

fn help_exits_0() {
    assert_help(&example(), "Usage: ch01-what-is-a-namespace");
}

fn extra_argument_is_a_usage_error() {
    assert_usage_error(&example(), &["uts"], "unexpected argument \"uts\"");
}
