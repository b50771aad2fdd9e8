//! Lambda: ticket.
fn main() {}
