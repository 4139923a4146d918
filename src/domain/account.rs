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
    pub const PATTERN: &'static str = r"^[\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^@\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\u0000-\u001F\u007F-\u009F\u00AD\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]+@[^@.\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\u0000-\u001F\u007F-\u009F\u00AD\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]+(\.[^@.\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\u0000-\u001F\u007F-\u009F\u00AD\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]+)+[\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$";

    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.chars().count() > Self::MAX_LEN {
            return Err(format!("must be at most {} characters", Self::MAX_LEN));
        }
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err("is required".to_owned());
        }
        // Lower-casing can lengthen text ('İ' becomes two characters).
        if email.chars().count() > Self::MAX_LEN {
            return Err(format!("must be at most {} characters", Self::MAX_LEN));
        }
        let allowed = |c: char| !(c.is_whitespace() || is_hidden(c) || c == '@');
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

/// Control characters, and the invisible formatting ones (soft hyphen, zero-width spaces and
/// joiners, bidirectional overrides, the byte-order mark...) that make two names look alike.
/// The same set as the `\u0000-...\uFEFF` class of the OpenAPI patterns.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{AD}' | '\u{61C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
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
    pub const PATTERN: &'static str = r"^[^\u0000-\u001F\u007F-\u009F\u00AD\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]*[^\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\u0000-\u001F\u007F-\u009F\u00AD\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF][^\u0000-\u001F\u007F-\u009F\u00AD\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]*$";

    /// Limits apply to the text as sent; the stored name is trimmed.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(format!("must be at most {} characters", Self::MAX_CHARS));
        }
        if raw.chars().any(is_hidden) {
            return Err("must not contain control or invisible formatting characters".to_owned());
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

/// Sign-in and sign-up throttling: how many attempts, within what window, before a 429.
pub mod throttle {
    use std::net::IpAddr;
    use std::time::Duration;

    pub const WINDOW: Duration = Duration::from_secs(15 * 60);
    /// Failures for one account (existing or not) from one address. The tight limit: guessing
    /// one person's password from one place.
    pub const MAX_PER_ACCOUNT_ADDRESS: i64 = 5;
    /// Failures for one account from anywhere: loose, so that a stranger cannot lock someone
    /// out with a handful of requests, but a distributed guess still stops.
    pub const MAX_PER_ACCOUNT: i64 = 50;
    /// Failures from one address for any account: password spraying. Offices and carrier NATs
    /// share addresses, hence more than per account.
    pub const MAX_PER_ADDRESS: i64 = 30;
    /// Registrations from one address.
    pub const MAX_REGISTRATIONS_PER_ADDRESS: i64 = 20;
    /// Members added by email, per account, per window.
    pub const MAX_MEMBER_LOOKUPS_PER_ACCOUNT: i64 = 30;

    /// The address as throttling sees it: an IPv4 address, or the /64 of an IPv6 one (one
    /// subscriber's usual allocation, so that cycling through it does not reset the count).
    pub fn address_key(ip: IpAddr) -> String {
        match ip.to_canonical() {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        }
    }
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
    fn throttling_keys_ipv6_by_its_64_and_unmaps_ipv4() {
        use std::net::IpAddr;
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        assert_eq!(throttle::address_key(a), throttle::address_key(b));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(throttle::address_key(mapped), "192.0.2.7");
        assert_ne!(
            throttle::address_key("192.0.2.7".parse().unwrap()),
            throttle::address_key("192.0.2.8".parse().unwrap())
        );
    }

    #[test]
    fn lower_casing_cannot_push_an_email_past_the_limit() {
        let raw = format!("{}@x.org", "İ".repeat(240));
        assert!(raw.chars().count() <= Email::MAX_LEN);
        assert!(Email::parse(&raw).is_err());
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
        for hidden in ["Ma\u{200B}rie", "\u{FEFF}Marie", "Marie\u{202E}", "\u{AD}"] {
            assert!(DisplayName::parse(hidden).is_err(), "{hidden:?}");
        }
        assert!(Email::parse("ma\u{200B}rie@example.org").is_err());
        assert!(Email::parse("\u{FEFF}marie@example.org").is_err());
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
