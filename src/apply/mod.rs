//! The apply engine: ordering, server-side apply, drift detection, inventory, prune and health.
//!
//! ```text
//!  Vec<object> ──► plan (stages, Flux kind order)
//!              ──► engine::apply: per stage, per kind: one LIST ─► unchanged? skip
//!                                   else dry-run + diff ─► apply (field manager "driftless")
//!              ──► inventory (ConfigMap) ──► prune stale (reverse order, safety rules)
//!              ──► health wait (kstatus)
//!              ──► ChangeSet { Kind/ns/name: created|configured|unchanged|drifted|deleted|skipped }
//! ```
//!
//! Pure modules (`plan`, `inventory`, `changeset`, `normalize`, `policy`, `health`, `diff`)
//! take values and return values; only `discovery` and `engine` talk to the API server.

pub mod changeset;
pub mod diff;
pub mod discovery;
pub mod engine;
pub mod error;
pub mod health;
pub mod inventory;
pub mod normalize;
pub mod object;
pub mod plan;
pub mod policy;

pub use changeset::{Action, Change, ChangeSet, Summary};
pub use engine::{Engine, Options, Report};
pub use error::{Error, Result};
pub use object::ObjRef;
pub use policy::Owner;
