//! Credentials: password hashing (Argon2id) and tokens (JWT access tokens, opaque refresh
//! tokens). Neither HTTP nor storage: the HTTP layer extracts and answers, the db layer stores.

pub mod passwords;
pub mod tokens;
