//! The inventory's error: what failed, in which store, and whether retrying the transaction
//! can help — decided from the database's own error code (SQLite busy/locked, PostgreSQL
//! SQLSTATE deadlock, serialization failure, unique violation), never from message text.

/// An inventory error.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct StoreError {
    message: String,
    retryable: bool,
}

impl StoreError {
    /// A failure that retrying will not fix.
    pub fn new(message: impl Into<String>) -> StoreError {
        StoreError {
            message: message.into(),
            retryable: false,
        }
    }

    /// A transient conflict with another writer: the transaction is worth running again.
    pub fn conflict(message: impl Into<String>) -> StoreError {
        StoreError {
            message: message.into(),
            retryable: true,
        }
    }

    /// True for a transient conflict ([`StoreError::conflict`]).
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }

    /// The same error with its message rewritten (context added), retryability kept.
    pub fn map_message(self, f: impl FnOnce(String) -> String) -> StoreError {
        StoreError {
            message: f(self.message),
            retryable: self.retryable,
        }
    }
}

impl From<String> for StoreError {
    fn from(message: String) -> StoreError {
        StoreError::new(message)
    }
}

impl From<&str> for StoreError {
    fn from(message: &str) -> StoreError {
        StoreError::new(message)
    }
}

impl From<StoreError> for String {
    fn from(e: StoreError) -> String {
        e.message
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryability_survives_added_context() {
        let e = StoreError::conflict("inv.db: database is locked");
        assert!(e.is_retryable());
        let e = e.map_message(|m| format!("{m} (migration 3)"));
        assert!(e.is_retryable());
        assert_eq!(e.to_string(), "inv.db: database is locked (migration 3)");
        // The wording no longer decides anything.
        assert!(!StoreError::new("database is locked").is_retryable());
    }
}
