//! The `gridsafe` binary's library half: settings, start-up and the command line.
//!
//! `main.rs` stays thin so that tests build exactly the application the binary runs.

mod args;
mod audit_command;
pub mod cli;
mod commands;
pub mod settings;
pub mod startup;
mod tls;
pub mod webhooks;

pub use settings::Settings;

/// Prints a line on standard output. A reader that went away (`gridsafe audit … | head`) is not
/// an error worth a panic: the rest is simply not printed.
pub(crate) fn say(line: impl std::fmt::Display) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}
pub use startup::{StartError, StartOptions, prepare};
