//! The embedded Kubernetes API server (`driftless apiserver`, and the in-process test server).
pub mod error;
pub mod patch;
pub mod registry;
pub mod select;
pub mod ssa;
pub mod store;
pub mod time;
pub mod validate;
