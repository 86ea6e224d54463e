//! What a use case can answer besides success.

use gridsafe_domain::access::Denied;
use gridsafe_domain::rules::Violation;
use gridsafe_store::StoreError;

/// A problem with one field of the input: the field, a message key and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: &'static str,
    pub message: &'static str,
    pub args: Vec<(&'static str, String)>,
}

impl FieldProblem {
    pub fn new(field: &'static str, message: &'static str) -> Self {
        Self { field, message, args: Vec::new() }
    }

    pub fn with(mut self, name: &'static str, value: impl ToString) -> Self {
        self.args.push((name, value.to_string()));
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Not signed in, or the session or token is no longer valid.
    #[error("not authenticated")]
    Unauthenticated,
    /// The access check refused (already written to the audit trail).
    #[error("access denied: {0}")]
    Denied(#[from] Denied),
    /// A business rule refused the action.
    #[error("{0}")]
    Rule(#[from] Violation),
    /// Several rules refused the action (a ticket step names every reason at once).
    #[error("{} rules violated", .0.len())]
    Rules(Vec<Violation>),
    /// The input is not acceptable; nothing was changed.
    #[error("invalid input")]
    Invalid(Vec<FieldProblem>),
    /// No such record (or none the caller may see).
    #[error("not found")]
    NotFound,
    /// The change conflicts with existing data, e.g. a taken username. The message key says which.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// Sign-in refused.
    #[error("sign-in refused")]
    Login(crate::identity::LoginRefusal),
    /// Too many attempts; wait and retry.
    #[error("rate limited")]
    RateLimited { retry_after_seconds: u64 },
    /// The server is at its bound for this kind of work (password hashing, database
    /// connections); retry shortly.
    #[error("busy")]
    Busy { retry_after_seconds: u64 },
    #[error("storage")]
    Store(StoreError),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            // Every connection busy for the whole acquire timeout: a load peak, not a fault.
            e if e.is_busy() => AppError::Busy { retry_after_seconds: 2 },
            other => AppError::Store(other),
        }
    }
}

impl AppError {
    pub fn internal(message: impl Into<String>) -> Self {
        AppError::Internal(message.into())
    }

    pub fn invalid(field: &'static str, message: &'static str) -> Self {
        AppError::Invalid(vec![FieldProblem::new(field, message)])
    }

    /// Maps a unique-constraint violation to a conflict, anything else to a storage error:
    /// we insert and let the database decide, rather than check-then-insert.
    pub fn from_insert(error: StoreError, conflict: &'static str) -> Self {
        if error.is_unique_violation() { AppError::Conflict(conflict) } else { AppError::from(error) }
    }
}
