//! Errors of the git source: transient fetch failures, unresolvable references, cache I/O.

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The remote could not be reached or refused the credentials (transient: retried).
    #[error("failed to fetch {url}: {message}")]
    Fetch { url: String, message: String },
    /// The reference does not exist on the remote (terminal until the spec changes).
    #[error("failed to resolve reference {reference} in {url}: {message}")]
    Reference {
        url: String,
        reference: String,
        message: String,
    },
    /// Local cache I/O failed.
    #[error("source cache {path}: {message}")]
    Cache { path: String, message: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
