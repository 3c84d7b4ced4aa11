//! `driftless build DIR [--reorder legacy|none] [--substitute K=V] [--substitute-from FILE]`.

use crate::build::substitute;
use crate::build::{self, BuildOptions, LoadRestriction, Reorder};
use anyhow::{Context, Result};
use indexmap::IndexMap;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct BuildArgs {
    /// The kustomization (or plain manifest) directory.
    pub dir: PathBuf,
    /// Output order: `legacy` (kind order, the default) or `none` (input order).
    #[arg(long, value_parser = ["legacy", "none"])]
    pub reorder: Option<String>,
    /// `LoadRestrictionsRootOnly` (default) or `LoadRestrictionsNone`.
    #[arg(long, value_parser = ["LoadRestrictionsRootOnly", "LoadRestrictionsNone"])]
    pub load_restrictor: Option<String>,
    /// postBuild variable `KEY=VALUE` (repeatable).
    #[arg(long = "substitute", value_name = "K=V")]
    pub substitute: Vec<String>,
    /// postBuild variables from an env file or a ConfigMap/Secret YAML (repeatable).
    #[arg(long = "substitute-from", value_name = "FILE")]
    pub substitute_from: Vec<PathBuf>,
}

pub fn run(args: BuildArgs) -> Result<i32> {
    let opts = BuildOptions {
        reorder: args.reorder.as_deref().map(|r| {
            if r == "none" {
                Reorder::None
            } else {
                Reorder::Legacy
            }
        }),
        load_restriction: if args.load_restrictor.as_deref() == Some("LoadRestrictionsNone") {
            LoadRestriction::None
        } else {
            LoadRestriction::RootOnly
        },
    };
    let mut resources = build::build(&args.dir, &opts)?;
    // Flux: substituteFrom entries in order, then inline `substitute` wins.
    let mut vars = IndexMap::new();
    for f in &args.substitute_from {
        vars.extend(substitute::vars_from_file(f)?);
    }
    for kv in &args.substitute {
        let (k, v) = kv
            .split_once('=')
            .with_context(|| format!("--substitute '{kv}': expected KEY=VALUE"))?;
        vars.insert(k.to_string(), v.to_string());
    }
    if !vars.is_empty() {
        substitute::substitute(&mut resources, &vars)?;
    }
    print!("{}", build::render(&resources));
    // The process ends right after this; freeing thousands of objects would only cost time.
    std::mem::forget(resources);
    Ok(0)
}
