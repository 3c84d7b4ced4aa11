//! Errors of the controller: the ones that stop the agent (`Error`) and the ones a reconcile
//! stage reports in the object's status (`StageError`, carrying a Flux condition reason).

/// Why the agent itself could not run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A Kubernetes API call the agent needs failed.
    #[error("failed to {action}: {source}")]
    Kube {
        action: String,
        #[source]
        source: kube::Error,
    },
    /// The leader Lease was lost to another replica.
    #[error("lost the leader lease {0}")]
    LostLease(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A reconcile stage failed: the `Ready=False` reason, its message, and whether retrying
/// without a change can help.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageError {
    pub reason: &'static str,
    pub message: String,
    pub transient: bool,
}

impl StageError {
    pub fn new(reason: &'static str, message: impl Into<String>) -> StageError {
        StageError {
            reason,
            message: message.into(),
            transient: true,
        }
    }

    pub fn terminal(mut self) -> StageError {
        self.transient = false;
        self
    }
}

impl std::fmt::Display for StageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.reason, self.message)
    }
}
