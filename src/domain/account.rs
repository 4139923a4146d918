//! Accounts: validated sign-up input and the rules around signing in.

use std::fmt;

/// An email address, normalised: trimmed and lower-cased. Syntax is checked loosely (one `@`,
/// a dotted domain, no spaces): the only real proof of an address is a message that arrives.
#[derive(Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    /// The rule, as the OpenAPI schema states it: optional surrounding whitespace, a local
    /// part, `@`, and at least two non-empty dot-separated labels; no whitespace or control
    /// characters inside.
    pub const PATTERN: &'static str = r"^\s*[^@\s\u0000-\u001F\u007F-\u009F]+@[^@.\s\u0000-\u001F\u007F-\u009F]+(\.[^@.\s\u0000-\u001F\u007F-\u009F]+)+\s*$";

    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.chars().count() > Self::MAX_LEN {
            return Err(format!("must be at most {} characters", Self::MAX_LEN));
        }
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err("is required".to_owned());
        }
        let allowed = |c: char| !(c.is_whitespace() || c.is_control() || c == '@');
        let valid = match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && local.chars().all(allowed)
                    && domain.split('.').count() >= 2
                    && domain
                        .split('.')
                        .all(|label| !label.is_empty() && label.chars().all(allowed))
            }
            None => false,
        };
        if !valid {
            return Err("is not an email address".to_owned());
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// An email is personal data: keep it out of Debug output (and so out of logs).
impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Email(***)")
    }
}

/// A new password: 12 to 128 characters (the contract). Never printed.
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_CHARS: usize = 12;
    pub const MAX_CHARS: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let n = raw.chars().count();
        if n < Self::MIN_CHARS {
            return Err(format!("must be at least {} characters", Self::MIN_CHARS));
        }
        if n > Self::MAX_CHARS {
            return Err(format!("must be at most {} characters", Self::MAX_CHARS));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

/// A person's name as shown to others: trimmed, 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 100;

    /// At least one visible character, no control characters (the OpenAPI schema's pattern).
    pub const PATTERN: &'static str = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$";

    /// Limits apply to the text as sent; the stored name is trimmed.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(format!("must be at most {} characters", Self::MAX_CHARS));
        }
        if raw.chars().any(char::is_control) {
            return Err("must not contain control characters".to_owned());
        }
        let name = raw.trim();
        if name.is_empty() {
            return Err("is required".to_owned());
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Sign-in throttling: how many failures, within what window, before a 429.
pub mod throttle {
    use std::time::Duration;

    pub const WINDOW: Duration = Duration::from_secs(15 * 60);
    /// Failures for one account (whether or not it exists) within [`WINDOW`].
    pub const MAX_PER_ACCOUNT: i64 = 5;
    /// Failures from one client address within [`WINDOW`]: more, since offices share addresses.
    pub const MAX_PER_ADDRESS: i64 = 30;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Marie.Dupont@Example.ORG ")
                .unwrap()
                .as_str(),
            "marie.dupont@example.org"
        );
        for bad in [
            "",
            "nobody",
            "a@b",
            "a@.org",
            "a b@x.org",
            "@x.org",
            "a@x.org.",
            "a@b@c.org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(Email::parse(&format!("{}@x.org", "a".repeat(250))).is_err());
        assert_eq!(
            format!("{:?}", Email::parse("a@x.org").unwrap()),
            "Email(***)"
        );
    }

    #[test]
    fn passwords_are_bounded_and_never_printed() {
        assert!(NewPassword::parse("short").is_err());
        assert!(NewPassword::parse(&"x".repeat(129)).is_err());
        let p = NewPassword::parse("correct horse battery").unwrap();
        assert_eq!(p.expose(), "correct horse battery");
        assert!(!format!("{p:?}").contains("horse"));
        // Characters, not bytes: 12 accented letters are enough.
        assert!(NewPassword::parse(&"é".repeat(12)).is_ok());
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(DisplayName::parse("  Marie ").unwrap().as_str(), "Marie");
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"x".repeat(101)).is_err());
        assert!(DisplayName::parse("a\u{7}b").is_err());
    }
}

/// A person with an account, as the API shows them to themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: uuid::Uuid,
    pub email: String,
    pub display_name: String,
    pub is_moderator: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}
