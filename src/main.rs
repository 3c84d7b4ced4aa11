//! The `driftless` binary: parses the command line and runs one command.
#![forbid(unsafe_code)]

/// The builder allocates many small strings and maps; mimalloc is markedly faster at that than
/// the system allocator (see docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(driftless::cli::main());
}
