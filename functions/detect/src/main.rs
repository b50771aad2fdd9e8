//! Lambda: detect.
fn main() {}
