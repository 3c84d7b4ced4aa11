//! Errors of the notification subsystem: bad provider or alert configuration, and failed
//! deliveries. Messages never carry secret values (the dispatcher redacts them first).

/// Why a provider could not be configured or a notification could not be delivered.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The provider spec or its Secret is unusable (unknown type, missing address, bad URL).
    #[error("provider {provider}: {message}")]
    Config { provider: String, message: String },
    /// An alert's inclusion or exclusion regex does not compile.
    #[error("alert {alert}: invalid regex {pattern:?}: {message}")]
    Regex {
        alert: String,
        pattern: String,
        message: String,
    },
    /// The provider could not be reached or answered with an error.
    #[error("provider {provider}: delivery failed: {message}")]
    Delivery {
        provider: String,
        message: String,
        /// False for answers that will not change on retry (4xx other than 408/429).
        retryable: bool,
    },
}

impl Error {
    /// A configuration error for the named provider.
    pub fn config(provider: &str, message: impl Into<String>) -> Self {
        Error::Config {
            provider: provider.to_string(),
            message: message.into(),
        }
    }

    /// True when sending the same notification again may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::Delivery {
                retryable: true,
                ..
            }
        )
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
