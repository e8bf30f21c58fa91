//! Reference central registry: not built yet (issue #6). This binary only says so,
//! so that nothing pretends to sync.

fn main() {
    eprintln!("ecard-registry: not implemented yet (see issue #6)");
    std::process::exit(2);
}
