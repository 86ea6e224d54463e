//! `gridsafe`: the one binary. See the README for what it does and how to run it.

/// mimalloc gives the memory of a burst of password checks back to the system; glibc's arenas kept it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    match gridsafe::cli::parse(std::env::args_os()) {
        Ok(cli) => gridsafe::cli::run(cli),
        Err(code) => code,
    }
}
