//! Parses YAML text (one or many documents) into [`Value`]s with yaml-rust2's event parser,
//! keeping the line each document starts on so errors can name `file:line`.
//! STUB: to be implemented (see the yaml helper's task).

use super::Value;

/// A YAML syntax or structure error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The text is not valid YAML.
    #[error("line {line}, column {col}: {message}")]
    Syntax {
        line: usize,
        col: usize,
        message: String,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One document of a multi-document stream.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    pub value: Value,
    /// 1-based line where the document's content starts.
    pub line: usize,
}

/// Parses every document in `text`. Empty documents are returned as `Value::Null`.
pub fn parse_documents(text: &str) -> Result<Vec<Document>> {
    let _ = text;
    todo!("yaml parser")
}
