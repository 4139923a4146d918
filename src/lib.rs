//! Diaspora Directory: a REST API where diaspora organizations and humanitarian actors find each
//! other and coordinate.
//!
//! Layers: [`http`] (actix-web: routes, request/response types, problem+json, OpenAPI) calls
//! [`db`] (diesel: pool, migrations, queries) with [`domain`] types (validated values, neither
//! actix nor diesel). [`config`] reads the environment; [`http::server`] runs it all.

pub mod auth;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod export;
pub mod http;
pub mod seed;
pub mod telemetry;
