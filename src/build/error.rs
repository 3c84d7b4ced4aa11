//! Errors of the builder. Every message is one line and names the file (with line when known),
//! the field, and the object (`Kind/ns/name`) involved.

use crate::yaml;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory could not be read.
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },

    /// A file is not valid YAML.
    #[error("{file}:{line}: invalid YAML: {message}")]
    Yaml {
        file: String,
        line: usize,
        message: String,
    },

    /// A kustomization file could not be decoded (unknown field, wrong type, ...).
    #[error("{file}: invalid Kustomization: {message}")]
    Kustomization { file: String, message: String },

    /// A path outside the kustomization root was referenced (kustomize's root-only load restriction).
    #[error("{file}: security; file '{path}' is not in or below '{root}'")]
    Restricted {
        file: String,
        path: String,
        root: String,
    },

    /// A base or component refers back to a directory already being built.
    #[error(
        "{file}: cycle detected: candidate root '{candidate}' contains visited root '{visited}'"
    )]
    Cycle {
        file: String,
        candidate: String,
        visited: String,
    },

    /// Anything else that is wrong with the input. `context` names the file, field and/or object.
    #[error("{context}: {message}")]
    Invalid { context: String, message: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A generic input error with its context (file, field, `Kind/ns/name`).
    pub fn invalid(context: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Invalid {
            context: context.into(),
            message: message.into(),
        }
    }

    /// Turns a YAML parse error into one naming the file.
    pub fn yaml(file: impl Into<String>, e: yaml::Error) -> Error {
        match e {
            yaml::Error::Syntax { line, col, message } => Error::Yaml {
                file: file.into(),
                line,
                message: format!("column {col}: {message}"),
            },
        }
    }

    /// Prefixes the error with more context (for example the kustomization file and field).
    pub fn context(self, ctx: impl Into<String>) -> Error {
        let ctx = ctx.into();
        match self {
            Error::Invalid { context, message } => Error::Invalid {
                context: format!("{ctx}: {context}"),
                message,
            },
            other => Error::Invalid {
                context: ctx,
                message: other.to_string(),
            },
        }
    }
}
