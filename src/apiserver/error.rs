//! Errors of the embedded API server. Every variant maps to an HTTP status code and a
//! Kubernetes `Status` object (`reason`, `message`, `details.causes`) as kube-apiserver sends it.

use serde_json::{json, Value};

/// One entry of `Status.details.causes`.
#[derive(Debug, Clone, PartialEq)]
pub struct Cause {
    /// `FieldManagerConflict`, `FieldValueInvalid`, `FieldValueRequired`, ...
    pub reason: String,
    pub message: String,
    /// The field path, e.g. `.spec.replicas` or `spec.selector`.
    pub field: String,
}

/// What identifies the object an error is about (`Status.details`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Target {
    pub name: String,
    pub group: String,
    /// The kind for Invalid/Conflict errors, the plural resource for NotFound/AlreadyExists.
    pub kind: String,
}

/// An API error. `Display` is the message kubectl shows after `Error from server (Reason):`.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum ApiError {
    #[error("{message}")]
    NotFound { message: String, target: Target },
    #[error("{message}")]
    AlreadyExists { message: String, target: Target },
    #[error("{message}")]
    Conflict {
        message: String,
        target: Target,
        causes: Vec<Cause>,
    },
    #[error("{message}")]
    Invalid {
        message: String,
        target: Target,
        causes: Vec<Cause>,
    },
    #[error("{0}")]
    BadRequest(String),
    #[error("{message}")]
    Forbidden { message: String, target: Target },
    #[error("{0}")]
    Gone(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("{0}")]
    Timeout(String),
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// `<resource>.<group> "<name>" not found`.
    pub fn not_found(resource: &str, group: &str, name: &str) -> Self {
        ApiError::NotFound {
            message: format!("{} \"{name}\" not found", qualified(resource, group)),
            target: Target {
                name: name.into(),
                group: group.into(),
                kind: resource.into(),
            },
        }
    }

    /// `<resource>.<group> "<name>" already exists`.
    pub fn already_exists(resource: &str, group: &str, name: &str) -> Self {
        ApiError::AlreadyExists {
            message: format!("{} \"{name}\" already exists", qualified(resource, group)),
            target: Target {
                name: name.into(),
                group: group.into(),
                kind: resource.into(),
            },
        }
    }

    /// The optimistic-concurrency conflict of an update with a stale resourceVersion.
    pub fn stale(resource: &str, group: &str, name: &str) -> Self {
        ApiError::Conflict {
            message: format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                qualified(resource, group)
            ),
            target: Target { name: name.into(), group: group.into(), kind: resource.into() },
            causes: Vec::new(),
        }
    }

    /// `<Kind>.<group> "<name>" is invalid: <field>: <detail>[, ...]`.
    pub fn invalid(kind: &str, group: &str, name: &str, causes: Vec<Cause>) -> Self {
        let details: Vec<String> = causes
            .iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect();
        let list = if details.len() == 1 {
            details[0].clone()
        } else {
            format!("[{}]", details.join(", "))
        };
        ApiError::Invalid {
            message: format!("{} \"{name}\" is invalid: {list}", qualified(kind, group)),
            target: Target {
                name: name.into(),
                group: group.into(),
                kind: kind.into(),
            },
            causes,
        }
    }

    /// The HTTP status code.
    pub fn code(&self) -> u16 {
        match self {
            ApiError::NotFound { .. } => 404,
            ApiError::AlreadyExists { .. } | ApiError::Conflict { .. } => 409,
            ApiError::Invalid { .. } => 422,
            ApiError::BadRequest(_) => 400,
            ApiError::Forbidden { .. } => 403,
            ApiError::Gone(_) => 410,
            ApiError::MethodNotAllowed(_) => 405,
            ApiError::UnsupportedMediaType(_) => 415,
            ApiError::TooManyRequests(_) => 429,
            ApiError::Timeout(_) => 504,
            ApiError::Internal(_) => 500,
        }
    }

    /// The `Status.reason`.
    pub fn reason(&self) -> &'static str {
        match self {
            ApiError::NotFound { .. } => "NotFound",
            ApiError::AlreadyExists { .. } => "AlreadyExists",
            ApiError::Conflict { .. } => "Conflict",
            ApiError::Invalid { .. } => "Invalid",
            ApiError::BadRequest(_) => "BadRequest",
            ApiError::Forbidden { .. } => "Forbidden",
            ApiError::Gone(_) => "Expired",
            ApiError::MethodNotAllowed(_) => "MethodNotAllowed",
            ApiError::UnsupportedMediaType(_) => "UnsupportedMediaType",
            ApiError::TooManyRequests(_) => "TooManyRequests",
            ApiError::Timeout(_) => "Timeout",
            ApiError::Internal(_) => "InternalError",
        }
    }

    /// The `Status` object sent as the response body.
    pub fn status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.to_string(),
            "reason": self.reason(),
            "code": self.code(),
        });
        let (target, causes) = match self {
            ApiError::NotFound { target, .. }
            | ApiError::AlreadyExists { target, .. }
            | ApiError::Forbidden { target, .. } => (Some(target), None),
            ApiError::Conflict { target, causes, .. }
            | ApiError::Invalid { target, causes, .. } => (Some(target), Some(causes)),
            _ => (None, None),
        };
        if let Some(t) = target {
            let mut details = serde_json::Map::new();
            if !t.name.is_empty() {
                details.insert("name".into(), json!(t.name));
            }
            if !t.group.is_empty() {
                details.insert("group".into(), json!(t.group));
            }
            if !t.kind.is_empty() {
                details.insert("kind".into(), json!(t.kind));
            }
            if let Some(causes) = causes.filter(|c| !c.is_empty()) {
                let list: Vec<Value> = causes
                    .iter()
                    .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
                    .collect();
                details.insert("causes".into(), Value::Array(list));
            }
            status["details"] = Value::Object(details);
        }
        if let ApiError::TooManyRequests(_) = self {
            status["details"] = json!({"retryAfterSeconds": 1});
        }
        status
    }
}

/// `deployments.apps` or plain `configmaps` for the core group.
pub fn qualified(resource: &str, group: &str) -> String {
    if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    }
}

/// Errors starting or running the server itself (not request errors).
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("cannot build a kube client: {0}")]
    Client(String),
    #[error("cannot use data file {path}: {message}")]
    Data { path: String, message: String },
    #[error("cannot write kubeconfig {path}: {source}")]
    Kubeconfig {
        path: String,
        source: std::io::Error,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_status_names_resource_and_group() {
        let e = ApiError::not_found("deployments", "apps", "web");
        let s = e.status();
        assert_eq!(s["code"], 404);
        assert_eq!(s["reason"], "NotFound");
        assert_eq!(s["message"], "deployments.apps \"web\" not found");
        assert_eq!(s["details"]["kind"], "deployments");
    }

    #[test]
    fn invalid_lists_field_causes() {
        let e = ApiError::invalid(
            "Deployment",
            "apps",
            "web",
            vec![Cause {
                reason: "FieldValueInvalid".into(),
                message: "field is immutable".into(),
                field: "spec.selector".into(),
            }],
        );
        assert_eq!(e.code(), 422);
        assert_eq!(
            e.to_string(),
            "Deployment.apps \"web\" is invalid: spec.selector: field is immutable"
        );
        assert_eq!(e.status()["details"]["causes"][0]["field"], "spec.selector");
    }
}
