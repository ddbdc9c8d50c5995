//! What happened to each event of a batch once its writes were tried: one type for the
//! Collections writer and the Bulk jobs alike, so that "the first failure of an event wins"
//! and "an event is applied only when all its writes are" are decided in one place.

use salesforce_client::{ApiError, FailureClass, SalesforceError};

use crate::{mapping::WriteRole, store::Failure};

/// What happened to one event's writes.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteResult {
    /// Every write succeeded; the id of the event's first main record.
    Applied(Option<String>),
    /// A write failed: why, and whether trying again can help.
    Failed(Failure),
    /// Shutdown came before all writes were attempted; leave the entry pending.
    NotAttempted,
}

/// The results of a batch's events, filled in as their writes complete.
#[derive(Debug, Clone)]
pub struct BatchResults {
    slots: Vec<Option<WriteResult>>,
}

impl BatchResults {
    /// Nothing known yet about `events` events.
    pub fn new(events: usize) -> Self {
        Self {
            slots: vec![None; events],
        }
    }

    /// True when a write of `event` failed: its remaining writes are not sent.
    pub fn has_failed(&self, event: usize) -> bool {
        matches!(self.slots[event], Some(WriteResult::Failed(_)))
    }

    /// A write of `event` succeeded. A parent stub's success says nothing about its event;
    /// a main write's keeps the first record id seen.
    pub fn succeeded(&mut self, event: usize, role: WriteRole, id: Option<String>) {
        if role != WriteRole::Main || self.has_failed(event) {
            return;
        }
        let slot = &mut self.slots[event];
        match slot {
            Some(WriteResult::Applied(Some(_))) | Some(WriteResult::NotAttempted) => {}
            _ => *slot = Some(WriteResult::Applied(id)),
        }
    }

    /// A write of `event` failed; the first failure is the one recorded.
    pub fn failed(&mut self, event: usize, failure: Failure) {
        if !self.has_failed(event) {
            self.slots[event] = Some(WriteResult::Failed(failure));
        }
    }

    /// A write of `event` was not sent (shutdown): the event is not applied, whatever its
    /// other writes did, unless one of them failed.
    pub fn not_attempted(&mut self, event: usize) {
        if !self.has_failed(event) {
            self.slots[event] = Some(WriteResult::NotAttempted);
        }
    }

    /// What is known of `event` so far.
    pub fn get(&self, event: usize) -> Option<&WriteResult> {
        self.slots[event].as_ref()
    }

    /// One result per event, in order. An event none of whose writes reported anything (it
    /// had no main writes) changes nothing in Salesforce and is applied.
    pub fn into_results(self) -> Vec<WriteResult> {
        self.slots
            .into_iter()
            .map(|slot| slot.unwrap_or(WriteResult::Applied(None)))
            .collect()
    }
}

impl Failure {
    /// A failure of our own making (`MAPPING_ERROR`, `PARENT_MISSING`, ...).
    pub fn new(class: FailureClass, code: &str, message: impl Into<String>) -> Self {
        Self {
            class,
            code: code.to_owned(),
            message: message.into(),
        }
    }

    /// A record-level error Salesforce reported, classified by the caller.
    pub fn from_api_error(class: FailureClass, error: &ApiError) -> Self {
        Self::new(class, &error.code, error.message.clone())
    }
}

impl From<&SalesforceError> for Failure {
    /// A call that failed as a whole: its code (or `CALL_FAILED`) and its first message.
    fn from(error: &SalesforceError) -> Self {
        match error {
            SalesforceError::Api { code, errors, .. } => Self::new(
                error.class(),
                code,
                errors
                    .first()
                    .map(|e| e.message.clone())
                    .unwrap_or_default(),
            ),
            other => Self::new(
                other.class(),
                other.code().unwrap_or("CALL_FAILED"),
                other.to_string(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: &str) -> Failure {
        Failure::new(FailureClass::Retryable, code, "x")
    }

    #[test]
    fn the_first_failure_of_an_event_wins_over_everything_after_it() {
        let mut results = BatchResults::new(1);
        results.failed(0, failure("FIRST"));
        results.failed(0, failure("SECOND"));
        results.succeeded(0, WriteRole::Main, Some("a01".into()));
        results.not_attempted(0);
        assert_eq!(
            results.into_results(),
            vec![WriteResult::Failed(failure("FIRST"))]
        );
    }

    #[test]
    fn the_first_main_record_id_is_kept_and_stubs_report_nothing() {
        let mut results = BatchResults::new(2);
        results.succeeded(0, WriteRole::ParentStub, Some("stub".into()));
        assert_eq!(results.get(0), None);
        results.succeeded(0, WriteRole::Main, Some("a01".into()));
        results.succeeded(0, WriteRole::Main, Some("a02".into()));
        assert_eq!(
            results.into_results(),
            vec![
                WriteResult::Applied(Some("a01".into())),
                WriteResult::Applied(None)
            ]
        );
    }

    #[test]
    fn a_write_not_attempted_leaves_the_event_pending_even_after_a_success() {
        let mut results = BatchResults::new(1);
        results.succeeded(0, WriteRole::Main, Some("a01".into()));
        results.not_attempted(0);
        results.succeeded(0, WriteRole::Main, Some("a02".into()));
        assert_eq!(results.into_results(), vec![WriteResult::NotAttempted]);
    }

    #[test]
    fn a_failed_call_becomes_the_failure_of_its_records() {
        let error = SalesforceError::Transport("connection reset".into());
        let failure = Failure::from(&error);
        assert_eq!(failure.class, FailureClass::Retryable);
        assert_eq!(failure.code, "CALL_FAILED");
    }
}
