//! Domain types: validated values and the shapes of the directory's data.
//!
//! Nothing here knows about HTTP (actix) or storage (diesel); parsing user input into these types
//! is where validation lives ("parse, don't validate").

pub mod account;
pub mod change;
pub mod crisis;
pub mod discovery;
pub mod engagement;
pub mod introduction;
pub mod matching;
pub mod merge;
pub mod organization;
pub mod posting;
pub mod reference;
pub mod text;
