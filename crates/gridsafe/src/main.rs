//! `gridsafe`: the one binary. See the README for what it does and how to run it.

use clap::Parser;

fn main() -> std::process::ExitCode {
    gridsafe::cli::run(gridsafe::cli::Cli::parse())
}
