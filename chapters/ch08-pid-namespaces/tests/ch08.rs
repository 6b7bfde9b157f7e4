testkit::cases!();
