//! Text for a terminal: control characters from the logs escaped, and a stderr that may be
//! closed.
//!
//! Log fields are written by whoever wrote the logs. Printed raw, an ESC starts a terminal
//! escape sequence, a CR rewrites the line, a right-to-left override reorders what is shown.
//! Everything printed for people (the table, CSV, messages on stderr) goes through
//! [`escape`]; JSON output is escaped by JSON itself.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write;

/// Whether `c` is shown escaped: C0 and C1 controls, DEL, and the characters that change
/// the direction or the lines of text (bidi embeddings, overrides, isolates and marks, the
/// Unicode line and paragraph separators).
fn hostile(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// `s` with every control character written as `\x1b` (ASCII) or `\u{202e}` (the others).
pub fn escape(s: &str) -> Cow<'_, str> {
    escape_but(s, |_| false)
}

fn escape_but(s: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(|c| hostile(c) && !keep(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !hostile(c) || keep(c) {
            out.push(c);
        } else if c.is_ascii() {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
    Cow::Owned(out)
}

/// Writes one message line on stderr, escaped. A closed or failing stderr is ignored: a
/// scan does not die of having nobody to tell (`eprintln!` would panic).
pub fn line(msg: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{}", escape(msg));
}

/// Writes the error that ends the program: as [`line`], but line breaks stay (a TOML
/// error shows the line it is about).
pub fn fatal(msg: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{}", escape_but(msg, |c| c == '\n'));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_overrides_are_escaped() {
        assert_eq!(escape("plain name-1@x"), "plain name-1@x");
        assert!(matches!(escape("plain"), Cow::Borrowed(_)));
        assert_eq!(
            escape("a\u{1b}[2J\u{7}\r\n\t\u{7f}\u{9b}\u{202e}b\u{2066}\u{2028}é"),
            "a\\x1b[2J\\x07\\x0d\\x0a\\x09\\x7f\\u{9b}\\u{202e}b\\u{2066}\\u{2028}é"
        );
        assert_eq!(escape_but("a\nb\u{1b}", |c| c == '\n'), "a\nb\\x1b");
    }
}
