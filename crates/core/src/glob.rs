//! Globs over ARNs and names: `*` matches any run of characters (including none and `/`);
//! everything else matches itself.

use std::fmt;

/// A compiled glob.
#[derive(Clone, PartialEq, Eq)]
pub struct Glob {
    pattern: String,
    parts: Vec<String>,
}

impl Glob {
    /// Compiles `pattern`. Empty patterns, whitespace, and the wildcard syntax of other glob
    /// dialects (`?`, `[...]`, `{...}`), which would silently match nothing here, are errors.
    pub fn new(pattern: &str) -> Result<Glob, String> {
        if pattern.is_empty() {
            return Err("empty glob".to_string());
        }
        if let Some(c) = pattern
            .chars()
            .find(|c| c.is_whitespace() || matches!(c, '?' | '[' | ']' | '{' | '}'))
        {
            return Err(format!(
                "bad glob {pattern:?}: {c:?} is not supported (only * is a wildcard)"
            ));
        }
        Ok(Glob {
            pattern: pattern.to_string(),
            parts: pattern.split('*').map(String::from).collect(),
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Whether `s` matches the whole pattern.
    pub fn matches(&self, s: &str) -> bool {
        let parts = &self.parts;
        if parts.len() == 1 {
            return s == parts[0];
        }
        let (first, last) = (&parts[0], &parts[parts.len() - 1]);
        if !s.starts_with(first.as_str()) || s.len() < first.len() + last.len() {
            return false;
        }
        if !s.ends_with(last.as_str()) {
            return false;
        }
        let mut rest = &s[first.len()..s.len() - last.len()];
        for mid in &parts[1..parts.len() - 1] {
            match rest.find(mid.as_str()) {
                Some(i) => rest = &rest[i + mid.len()..],
                None => return false,
            }
        }
        true
    }
}

impl fmt::Debug for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Glob({:?})", self.pattern)
    }
}

#[cfg(test)]
mod tests {
    use super::Glob;

    #[test]
    fn star_matches_any_run() {
        let g = Glob::new("arn:aws:iam::*:role/terraform-*").unwrap();
        assert!(g.matches("arn:aws:iam::111122223333:role/terraform-ci"));
        assert!(g.matches("arn:aws:iam::1:role/terraform-"));
        assert!(!g.matches("arn:aws:iam::1:role/other"));
        assert!(!g.matches("arn:aws:iam::1:user/terraform-x"));
        assert!(Glob::new("*").unwrap().matches(""));
        assert!(Glob::new("a*b*c").unwrap().matches("aXbYc"));
        assert!(!Glob::new("a*b*c").unwrap().matches("acb"));
        assert!(!Glob::new("ab*ba").unwrap().matches("aba"));
        assert!(Glob::new("exact").unwrap().matches("exact"));
        assert!(!Glob::new("exact").unwrap().matches("exactly"));
    }

    #[test]
    fn rejects_other_dialects() {
        assert!(Glob::new("").is_err());
        assert!(Glob::new("role/?")
            .unwrap_err()
            .contains("only * is a wildcard"));
        assert!(Glob::new("role/[ab]").is_err());
        assert!(Glob::new("a b").is_err());
    }
}
