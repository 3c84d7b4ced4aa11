//! driftless: a GitOps reconciliation engine. This crate holds the kustomize-compatible builder
//! (`build`), the YAML model it works on (`yaml`), and the command-line front end (`cli`).
#![forbid(unsafe_code)]

pub mod api;
pub mod apiserver;
pub mod apply;
pub mod build;
pub mod cli;
pub mod controller;
pub mod notification;
pub mod receiver;
pub mod server;
pub mod source;
pub mod yaml;
