//! The learner's `workbook` command (`cargo workbook ...`), as a library the
//! binary, the book's test and CI share.
//!
//! Laid out like rustlings: `main.rs` only dispatches; one module per
//! command; [`catalog`] is the one reader of `exercises/exercises.toml`;
//! author commands live under [`dev`], apart from the learner's.

pub mod cargo;
pub mod catalog;
pub mod cli;
pub mod dev;
pub mod doctor;
pub mod hint;
pub mod map;
pub mod progress;
pub mod reset;
pub mod results;
pub mod solution;
pub mod state;
pub mod term;
pub mod watch;
