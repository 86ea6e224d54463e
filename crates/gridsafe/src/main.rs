//! `gridsafe`: the one binary. See the README for what it does and how to run it.

use clap::Parser;

/// mimalloc gives the memory of a burst of password checks back to the system; glibc's arenas kept it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    gridsafe::cli::run(gridsafe::cli::Cli::parse())
}
