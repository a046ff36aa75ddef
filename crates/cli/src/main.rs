//! The `scry` binary: a thin dispatcher over the library crates.
fn main() {}
