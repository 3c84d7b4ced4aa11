//! The command-line interface (clap). The only place that prints and uses `anyhow`.

pub mod agent;
pub mod apiserver;
pub mod apply;
pub mod bootstrap;
pub mod build;
pub mod diff;
pub mod diff_ks;
pub mod events;
pub mod get;
pub mod install;
pub mod output;
pub mod reconcile;
pub mod sandbox;
pub mod stats;
pub mod suspend;
pub mod trace;
pub mod tree;

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
    /// Run the GitOps agent (reconciles GitRepositories and Kustomizations).
    Agent(agent::AgentArgs),
    /// Install the CRDs, RBAC and the agent Deployment (or print them with --export).
    Install(install::InstallArgs),
    /// Create the root GitRepository and Kustomization for a cluster directory.
    Bootstrap(bootstrap::BootstrapArgs),
    /// API server, install, bootstrap and agent in one process, on a local checkout.
    Sandbox(sandbox::SandboxArgs),
    /// Show Kustomizations, sources, alerts, providers, receivers (Flux's columns).
    Get(get::GetArgs),
    /// Show the Events of Flux objects (`--for Kind/name` adds its source's).
    Events(events::EventsArgs),
    /// Show a Kustomization's inventory as a tree.
    Tree(tree::TreeArgs),
    /// Show which Kustomization and source manage an object.
    Trace(trace::TraceArgs),
    /// Count reconcilers per Flux kind: running, failing, suspended, storage.
    Stats(stats::StatsArgs),
    /// Ask for a reconcile now and wait for it (like `flux reconcile`).
    Reconcile(reconcile::ReconcileArgs),
    /// Stop reconciling a Kustomization or source (like `flux suspend`).
    Suspend(suspend::SuspendArgs),
    /// Reconcile a suspended Kustomization or source again and wait (like `flux resume`).
    Resume(suspend::SuspendArgs),
}

/// Runs the CLI and returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build(args) => build::run(args),
        Command::Apiserver(args) => apiserver::run(args),
        Command::Apply(args) => apply::run(args),
        Command::Diff(args) => Ok(diff::run(args)),
        Command::Agent(args) => agent::run(args),
        Command::Install(args) => install::run(args),
        Command::Bootstrap(args) => bootstrap::run(args),
        Command::Sandbox(args) => sandbox::run(args),
        Command::Get(args) => get::run(args),
        Command::Events(args) => events::run(args),
        Command::Tree(args) => tree::run(args),
        Command::Trace(args) => trace::run(args),
        Command::Stats(args) => stats::run(args),
        Command::Reconcile(args) => reconcile::run(args),
        Command::Suspend(args) => suspend::run_suspend(args),
        Command::Resume(args) => suspend::run_resume(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    }
}
