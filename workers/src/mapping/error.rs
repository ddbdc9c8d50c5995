//! The two ways mapping can fail: a bad mapping *file* (refused at start-up) and an event
//! that the mapping cannot translate (a permanent failure of that event only).

use std::path::PathBuf;

/// A mapping file that cannot be used. Raised when the file is loaded, never per event; the
/// message names the rule, write and field concerned so the operator can fix the file.
#[derive(Debug, thiserror::Error)]
pub enum MappingFileError {
    /// The file could not be read.
    #[error("cannot read mapping file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Not valid TOML, or a key the format does not know (typos are caught here).
    #[error("mapping file is not valid: {0}")]
    Syntax(#[from] toml::de::Error),
    /// Valid TOML that does not describe a usable mapping.
    #[error("mapping file: {location}: {reason}")]
    Invalid {
        /// Where, e.g. `rule for customer.created, write 1 (Stripe_Customer__c), field Amount__c`.
        location: String,
        /// What is wrong and, where possible, what is allowed.
        reason: String,
    },
}

/// Why one event could not be mapped. Every variant is *permanent*: retrying the same event
/// with the same mapping gives the same answer, so the worker dead-letters it with this text.
/// Messages name the event type, the Salesforce object and field, and the JSON path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    /// The JSON has no string `type`: not a Stripe event.
    #[error("not a Stripe event: the JSON has no string `type`")]
    NotAnEvent,
    /// The mapping has no rule for this event type. Callers that route only handled types
    /// (see `Mapping::handles`) can acknowledge and skip such events.
    #[error("event type {event_type} is not handled by the mapping")]
    UnhandledType {
        /// The event's `type`.
        event_type: String,
    },
    /// A required value is absent or null in the event.
    #[error("{event_type}: {sobject}.{field}: no value at {path}")]
    MissingValue {
        /// The event's `type`.
        event_type: String,
        /// The sObject being written.
        sobject: String,
        /// The Salesforce field (or external id field) that needed the value.
        field: String,
        /// The JSON path(s) tried, `a | b` for fallbacks.
        path: String,
    },
    /// A value is present but cannot be converted for its field.
    #[error("{event_type}: {sobject}.{field}: bad value at {path}: {reason}")]
    BadValue {
        /// The event's `type`.
        event_type: String,
        /// The sObject being written.
        sobject: String,
        /// The Salesforce field.
        field: String,
        /// The JSON path the value came from.
        path: String,
        /// What is wrong, e.g. `expected an integer amount in minor units, got "12.5"`.
        reason: String,
    },
}

impl MappingError {
    /// The event type the error is about, when known.
    pub fn event_type(&self) -> Option<&str> {
        match self {
            MappingError::NotAnEvent => None,
            MappingError::UnhandledType { event_type }
            | MappingError::MissingValue { event_type, .. }
            | MappingError::BadValue { event_type, .. } => Some(event_type),
        }
    }

    /// Stable machine-readable code for metrics labels and dead-letter entries.
    pub fn code(&self) -> &'static str {
        match self {
            MappingError::NotAnEvent => "not_an_event",
            MappingError::UnhandledType { .. } => "unhandled_type",
            MappingError::MissingValue { .. } => "missing_value",
            MappingError::BadValue { .. } => "bad_value",
        }
    }
}
