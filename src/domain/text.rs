//! Free-text inputs that end up in queries.

/// A search string: trimmed, non-empty, bounded, free of control characters (PostgreSQL rejects
/// NUL in text, and no human types the others into a search box).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText(String);

impl SearchText {
    pub const MAX_CHARS: usize = 200;

    /// Limits apply to the text as sent (before trimming), as the OpenAPI schema states them.
    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::parse_optional(raw)?.ok_or_else(|| "must not be empty".to_owned())
    }

    /// Like [`SearchText::parse`], but a blank string means "no search" rather than an error.
    pub fn parse_optional(raw: &str) -> Result<Option<Self>, String> {
        if raw.chars().any(char::is_control) {
            return Err("must not contain control characters".to_owned());
        }
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(format!("must be at most {} characters", Self::MAX_CHARS));
        }
        let trimmed = raw.trim();
        Ok((!trimmed.is_empty()).then(|| Self(trimmed.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text as a `LIKE` pattern matching it anywhere, with `%`, `_` and `\` taken literally.
    pub fn contains_pattern(&self) -> String {
        let mut out = String::with_capacity(self.0.len() + 2);
        out.push('%');
        for c in self.0.chars() {
            if matches!(c, '%' | '_' | '\\') {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('%');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_is_trimmed_and_bounded() {
        assert_eq!(SearchText::parse("  haiti ").unwrap().as_str(), "haiti");
        assert!(SearchText::parse("   ").is_err());
        assert!(SearchText::parse("a\u{0}b").is_err());
        // Control characters are refused even where trimming would remove them.
        assert!(SearchText::parse("\u{b}\rhaiti").is_err());
        assert!(SearchText::parse_optional("\n").is_err());
        assert_eq!(SearchText::parse_optional("  ").unwrap(), None);
        // The length limit is on the text as sent.
        assert!(SearchText::parse(&format!(" {}", "x".repeat(200))).is_err());
        assert!(SearchText::parse(&"x".repeat(201)).is_err());
        assert!(SearchText::parse(&"é".repeat(200)).is_ok());
    }

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(
            SearchText::parse("50%_a\\b").unwrap().contains_pattern(),
            "%50\\%\\_a\\\\b%"
        );
    }
}
