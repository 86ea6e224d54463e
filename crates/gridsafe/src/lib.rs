//! The `gridsafe` binary's library half: settings, start-up and the command line.
//!
//! `main.rs` stays thin so that tests build exactly the application the binary runs.

mod audit_command;
pub mod cli;
mod commands;
pub mod settings;
pub mod startup;

pub use settings::Settings;
pub use startup::{StartError, StartOptions, prepare};
