//! Sorting PostgreSQL errors into "try again" and "these values can never be stored".

use tokio_postgres::error::SqlState;

/// The handling that a failed statement calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureClass {
    /// The same transaction may succeed later: lost connection, serialization failure, deadlock,
    /// server shutting down, and anything unexpected (a bug must stall, not skip data).
    Transient(TransientCause),
    /// The values are at fault (data exception, integrity violation, program limit): retrying the
    /// same event is pointless.
    Permanent,
}

/// The transient causes counted separately in the retry metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransientCause {
    SerializationFailure,
    Deadlock,
    Connection,
    Other,
}

impl TransientCause {
    pub const ALL: [TransientCause; 4] = [
        TransientCause::SerializationFailure,
        TransientCause::Deadlock,
        TransientCause::Connection,
        TransientCause::Other,
    ];

    pub fn as_label(self) -> &'static str {
        match self {
            TransientCause::SerializationFailure => "serialization_failure",
            TransientCause::Deadlock => "deadlock",
            TransientCause::Connection => "connection",
            TransientCause::Other => "other",
        }
    }
}

/// Classifies an error by its SQLSTATE; an error without one is a broken connection.
pub fn classify(error: &tokio_postgres::Error) -> FailureClass {
    let Some(state) = error.code() else {
        return FailureClass::Transient(TransientCause::Connection);
    };
    if *state == SqlState::T_R_SERIALIZATION_FAILURE {
        return FailureClass::Transient(TransientCause::SerializationFailure);
    }
    if *state == SqlState::T_R_DEADLOCK_DETECTED {
        return FailureClass::Transient(TransientCause::Deadlock);
    }
    match &state.code()[..2] {
        // 22 data exception, 23 integrity constraint violation, 54 program limit exceeded
        "22" | "23" | "54" => FailureClass::Permanent,
        // 08 connection exception, 57 operator intervention (e.g. admin shutdown), 53 insufficient resources
        "08" | "57" | "53" => FailureClass::Transient(TransientCause::Connection),
        _ => FailureClass::Transient(TransientCause::Other),
    }
}
