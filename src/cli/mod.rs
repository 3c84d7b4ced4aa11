//! The command-line interface (clap). The only place that prints and uses `anyhow`.

pub mod apiserver;
pub mod build;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "driftless", version, about = "GitOps reconciliation engine")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Build a kustomization directory and print multi-document YAML (like `kubectl kustomize`).
    Build(build::BuildArgs),
    /// Run the embedded Kubernetes API server (prints `ready <url>` once serving).
    Apiserver(apiserver::ApiserverArgs),
}

/// Runs the CLI and returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build(args) => build::run(args),
        Command::Apiserver(args) => apiserver::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    }
}
