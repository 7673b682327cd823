//! Reasons an event cannot be applied, sorted into the classes that decide its fate.

use std::fmt;

/// The class of a permanent failure: retrying the same bytes can never succeed.
///
/// The label is a small fixed set so it can be used in metrics and dead-letter headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectionReason {
    /// The value is not UTF-8 JSON, or not a JSON object.
    MalformedJson,
    /// The `type` field is missing or names another event.
    UnknownEventType,
    /// The `version` field is missing or names a version this build does not understand.
    UnsupportedVersion,
    /// Valid JSON of the right type that breaks a rule of the order schema.
    InvalidOrder,
    /// PostgreSQL rejected the values even though validation passed.
    RejectedByDatabase,
}

impl RejectionReason {
    pub const ALL: [RejectionReason; 5] = [
        RejectionReason::MalformedJson,
        RejectionReason::UnknownEventType,
        RejectionReason::UnsupportedVersion,
        RejectionReason::InvalidOrder,
        RejectionReason::RejectedByDatabase,
    ];

    pub fn as_label(self) -> &'static str {
        match self {
            RejectionReason::MalformedJson => "malformed_json",
            RejectionReason::UnknownEventType => "unknown_event_type",
            RejectionReason::UnsupportedVersion => "unsupported_version",
            RejectionReason::InvalidOrder => "invalid_order",
            RejectionReason::RejectedByDatabase => "rejected_by_database",
        }
    }
}

impl fmt::Display for RejectionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_label())
    }
}

/// A permanent failure of one event, with a message that names the offending field and value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: {detail}")]
pub struct Rejection {
    pub reason: RejectionReason,
    pub detail: String,
}

impl Rejection {
    pub fn new(reason: RejectionReason, detail: impl Into<String>) -> Self {
        Self {
            reason,
            detail: detail.into(),
        }
    }

    pub fn invalid(detail: impl Into<String>) -> Self {
        Self::new(RejectionReason::InvalidOrder, detail)
    }
}
