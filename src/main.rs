//! The `driftless` binary: parses the command line and runs one command.
#![forbid(unsafe_code)]

fn main() {
    std::process::exit(driftless::cli::main());
}
