//! Integration tests: the real server on a free port, against the real PostgreSQL at
//! `DATABASE_URL` (default: the local server of the contract), each test in its own database
//! cloned from a template migrated once. One binary, one file per feature.

mod harness;

mod accounts;
mod architecture;
mod changes;
mod cli;
mod contacts;
mod crises;
mod discovery;
mod duplicates;
mod engagements;
mod errors;
mod exports;
mod introductions;
mod members;
mod merges;
mod metrics;
mod migrations;
mod openapi;
mod organizations;
mod postings;
mod privacy;
mod reference;
mod stats;
mod transport;
mod verification;
