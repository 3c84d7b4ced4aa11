//! The command-line interface (clap). The only place that prints and uses `anyhow`.

pub mod apiserver;
pub mod apply;
pub mod build;
pub mod diff;

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
    /// Build, server-side apply, prune and wait; prints one line per object (exit 0/1).
    Apply(apply::ApplyArgs),
    /// Show what `apply` would change, Secret values masked (exit 0 none, 1 changes, 2 error).
    Diff(diff::DiffArgs),
}

/// Runs the CLI and returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build(args) => build::run(args),
        Command::Apiserver(args) => apiserver::run(args),
        Command::Apply(args) => apply::run(args),
        Command::Diff(args) => Ok(diff::run(args)),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    }
}
