//! The `driftless` binary: parses the command line and runs one command.
#![forbid(unsafe_code)]

use clap::Parser;

// The system allocator: most builds are small, and there glibc's densely packed heap costs
// fewer page faults at start-up than mimalloc's per-size-class pages; mimalloc was faster only
// on large builds (docs/benchmarks.md).

use driftless::cli::build::BuildArgs;

/// `driftless build ...` alone: its arguments are parsed without building the whole command
/// tree (every subcommand's arguments), which is a visible share of a small build's time.
#[derive(Parser, Debug)]
#[command(name = "driftless build")]
struct BuildOnly {
    #[command(flatten)]
    args: BuildArgs,
}

fn main() {
    let mut argv = std::env::args_os();
    let exe = argv.next();
    let rest: Vec<std::ffi::OsString> = argv.collect();
    if exe.is_some() && rest.first().is_some_and(|a| a == "build") {
        let parsed = match rest.as_slice() {
            // `build DIR`, the common form, needs no parser at all.
            [_, dir] if !dir.as_encoded_bytes().starts_with(b"-") => Some(BuildArgs {
                dir: dir.into(),
                reorder: None,
                load_restrictor: None,
                substitute: Vec::new(),
                substitute_from: Vec::new(),
            }),
            _ => {
                let args = std::iter::once(std::ffi::OsString::from("driftless build"))
                    .chain(rest.iter().skip(1).cloned());
                BuildOnly::try_parse_from(args).ok().map(|b| b.args)
            }
        };
        // Anything unusual (help, a usage error) goes through the full CLI, which prints it.
        if let Some(args) = parsed {
            let code = match driftless::cli::build::run(args) {
                Ok(code) => code,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    1
                }
            };
            std::process::exit(code);
        }
    }
    std::process::exit(driftless::cli::main());
}
