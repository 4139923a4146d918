//! Argon2id password hashing. Callers run these functions off the async executor: they take
//! tens of milliseconds of CPU by design.

use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};
use rand_core::OsRng;

use crate::config::Argon2Config;

/// Hashes and verifies passwords with the configured cost.
#[derive(Clone)]
pub struct Passwords {
    params: Params,
    /// A hash of nothing anybody knows, at the current cost: verified against when an email has
    /// no account, so that "no such account" takes as long as "wrong password".
    dummy_hash: String,
}

impl Passwords {
    pub fn new(config: &Argon2Config) -> Result<Self, String> {
        let params = Params::new(
            config.memory_kib,
            config.iterations,
            config.parallelism,
            None,
        )
        .map_err(|e| format!("invalid Argon2 parameters: {e}"))?;
        let mut passwords = Passwords {
            params,
            dummy_hash: String::new(),
        };
        passwords.dummy_hash = passwords
            .hash("dummy password that is never accepted")
            .map_err(|e| format!("hashing failed: {e}"))?;
        Ok(passwords)
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// A PHC string (`$argon2id$v=19$m=...`) with a fresh random salt.
    pub fn hash(&self, password: &str) -> Result<String, argon2::password_hash::Error> {
        let salt = SaltString::generate(&mut OsRng);
        Ok(self
            .argon2()
            .hash_password(password.as_bytes(), &salt)?
            .to_string())
    }

    /// Whether `stored` was made with other parameters than the configured ones (or is not an
    /// Argon2id hash at all).
    pub fn needs_rehash(&self, stored: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(stored) else {
            return true;
        };
        let Ok(params) = Params::try_from(&parsed) else {
            return true;
        };
        parsed.algorithm != Algorithm::Argon2id.ident()
            || params.m_cost() != self.params.m_cost()
            || params.t_cost() != self.params.t_cost()
            || params.p_cost() != self.params.p_cost()
    }

    /// Whether `password` matches `stored`. With no stored hash (no such account) it still does
    /// the same work, against the dummy hash, and answers false.
    pub fn verify(&self, password: &str, stored: Option<&str>) -> bool {
        let (hash, real) = match stored {
            Some(h) => (h, true),
            None => (self.dummy_hash.as_str(), false),
        };
        let Ok(parsed) = PasswordHash::new(hash) else {
            return false;
        };
        // The parameters come from the stored hash: older hashes keep verifying after the
        // configured cost changes.
        let ok = self
            .argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        ok && real
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> Passwords {
        Passwords::new(&Argon2Config {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap()
    }

    #[test]
    fn a_hash_verifies_its_password_only() {
        let p = cheap();
        let h = p.hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert!(p.verify("correct horse battery", Some(&h)));
        assert!(!p.verify("wrong horse battery", Some(&h)));
        assert_ne!(h, p.hash("correct horse battery").unwrap(), "salted");
    }

    #[test]
    fn no_account_never_verifies_even_with_the_dummy_password() {
        let p = cheap();
        assert!(!p.verify("dummy password that is never accepted", None));
        assert!(!p.verify("anything", Some("not a phc string")));
    }

    #[test]
    fn hashes_made_at_another_cost_still_verify() {
        let old = cheap().hash("correct horse battery").unwrap();
        let stronger = Passwords::new(&Argon2Config {
            memory_kib: 128,
            iterations: 2,
            parallelism: 1,
        })
        .unwrap();
        assert!(stronger.verify("correct horse battery", Some(&old)));
        assert!(stronger.needs_rehash(&old));
        assert!(!cheap().needs_rehash(&old));
        assert!(cheap().needs_rehash("not a hash"));
    }
}
