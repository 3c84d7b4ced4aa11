//! Errors of the apply engine. Each names the object (`Kind/ns/name`) it is about.

use super::object::ObjRef;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why an apply, prune or health wait failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input object lacks apiVersion, kind or metadata.name.
    #[error("invalid object: {0}")]
    InvalidObject(String),
    /// No API resource serves this kind: usually a custom resource whose CRD is not installed.
    #[error("failed to apply {object}: no API resource for {api_version} kind {kind} (is the CustomResourceDefinition for {kind} installed?)")]
    UnknownKind {
        object: ObjRef,
        api_version: String,
        kind: String,
    },
    /// The change touches an immutable field and the object may not be recreated.
    #[error("failed to apply {object}: {field} is immutable; set kustomize.toolkit.fluxcd.io/force: enabled (or --force) to recreate it")]
    Immutable { object: ObjRef, field: String },
    /// The API server refused a request.
    #[error("failed to {action} {object}: {message}")]
    Api {
        action: &'static str,
        object: ObjRef,
        message: String,
        code: u16,
    },
    /// A request did not reach the API server or its answer was unreadable.
    #[error("failed to {action} {object}: {source}")]
    Transport {
        action: &'static str,
        object: String,
        #[source]
        source: kube::Error,
    },
    /// Objects listed in the inventory could not be deleted; they stay in the inventory.
    #[error("prune failed: {}", .0.join("; "))]
    PruneFailed(Vec<String>),
    /// Objects did not become healthy in time.
    #[error("timeout waiting for: [{}]", .0.join(", "))]
    HealthTimeout(Vec<String>),
    /// Objects reached a state they will not recover from on their own.
    #[error("failed early due to stalled resources: [{}]", .0.join(", "))]
    HealthFailed(Vec<String>),
    /// A stage's objects (CRDs, Namespaces) did not become ready in time.
    #[error("timeout waiting for {0} to become ready")]
    StageTimeout(String),
    /// The inventory ConfigMap held something that is not an inventory.
    #[error("failed to read inventory {name}: {message}")]
    Inventory { name: String, message: String },
}

impl Error {
    /// The Flux `Ready=False` condition reason for this failure (`ReconciliationFailed`,
    /// `PruneFailed`, `HealthCheckFailed`).
    pub fn reason(&self) -> &'static str {
        match self {
            Error::PruneFailed(_) => "PruneFailed",
            Error::HealthTimeout(_) | Error::HealthFailed(_) => "HealthCheckFailed",
            _ => "ReconciliationFailed",
        }
    }

    /// True for errors worth retrying unchanged (network trouble, server overload, conflicts);
    /// false for errors that need a change in the source or the cluster.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Transport { .. }
            | Error::HealthTimeout(_)
            | Error::StageTimeout(_)
            | Error::PruneFailed(_) => true,
            Error::Api { code, .. } => *code == 409 || *code == 429 || *code >= 500,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_match_flux_conditions() {
        assert_eq!(Error::PruneFailed(vec![]).reason(), "PruneFailed");
        assert_eq!(Error::HealthTimeout(vec![]).reason(), "HealthCheckFailed");
        assert_eq!(Error::HealthFailed(vec![]).reason(), "HealthCheckFailed");
        assert_eq!(
            Error::InvalidObject("x".into()).reason(),
            "ReconciliationFailed"
        );
        assert!(Error::HealthTimeout(vec![]).is_transient());
        assert!(!Error::InvalidObject("x".into()).is_transient());
    }
}
