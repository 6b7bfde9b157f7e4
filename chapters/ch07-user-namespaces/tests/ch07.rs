testkit::cases!(help_exits_0);
fn example() -> testkit::Example {
    testkit::example!()
}
fn help_exits_0() {
    testkit::assert_help(&example(), "Usage: ch07-user-namespaces");
}
