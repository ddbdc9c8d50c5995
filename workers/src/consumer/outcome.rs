//! What happened to each event of a batch once its writes were tried: one type for the
//! Collections writer and the Bulk jobs alike, so that "the first failure of an event wins",
//! "an event is applied only when all its writes are" and "a write the fence refused is
//! superseded, not failed" are decided in one place.

use salesforce_client::{ApiError, FailureClass, SalesforceError};

use crate::{
    mapping::{Fence, RecordWrite, WriteRole},
    store::{Failure, RecordKey},
};

/// What happened to one event's writes.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteResult {
    /// Every write succeeded or was refused by the fence (a newer event holds its record).
    Applied {
        /// The id of the event's first main record written.
        id: Option<String>,
        /// The records whose write the fence refused.
        rejected: Vec<RecordKey>,
    },
    /// A write failed: why, and whether trying again can help.
    Failed(Failure),
    /// Shutdown came before all writes were attempted; leave the entry pending.
    NotAttempted,
}

/// Why one write was not accepted.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteError {
    /// The call failed, or a check of the fleet's own did (`NO_MATCHING_RECORD`).
    Failed(Failure),
    /// Salesforce refused the record: [`BatchResults::refused`] decides what that means.
    Refused {
        /// How to treat the error if it is not the fence's.
        class: FailureClass,
        /// Salesforce's error for the record.
        error: ApiError,
    },
}

/// The results of a batch's events, filled in as their writes complete.
#[derive(Debug, Clone)]
pub struct BatchResults {
    slots: Vec<Option<WriteResult>>,
    rejected: Vec<Vec<RecordKey>>,
    fence: Option<Fence>,
}

impl BatchResults {
    /// Nothing known yet about `events` events, whose writes carry `fence`, if any.
    pub fn new(events: usize, fence: Option<&Fence>) -> Self {
        Self {
            slots: vec![None; events],
            rejected: vec![Vec::new(); events],
            fence: fence.cloned(),
        }
    }

    /// Salesforce refused `write` of `event` with `error`. The fence's refusal (a newer event
    /// holds the record) supersedes the write, and the event goes on; any other error fails
    /// the event with `class`.
    pub fn refused(
        &mut self,
        event: usize,
        write: &RecordWrite,
        class: FailureClass,
        error: &ApiError,
    ) {
        self.refused_record(event, RecordKey::of(write), class, error);
    }

    /// [`Self::refused`] for a record named by its key (a Bulk job's row).
    pub fn refused_record(
        &mut self,
        event: usize,
        record: RecordKey,
        class: FailureClass,
        error: &ApiError,
    ) {
        if self
            .fence
            .as_ref()
            .is_some_and(|fence| fence.rejected(error))
        {
            if !self.rejected[event].contains(&record) {
                self.rejected[event].push(record);
            }
        } else {
            self.failed(event, Failure::from_api_error(class, error));
        }
    }

    /// `write` of `event` did not go through: [`Self::refused`] or [`Self::failed`].
    pub fn write_error(&mut self, event: usize, write: &RecordWrite, error: WriteError) {
        match error {
            WriteError::Failed(failure) => self.failed(event, failure),
            WriteError::Refused { class, error } => self.refused(event, write, class, &error),
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
            Some(WriteResult::Applied { id: Some(_), .. }) | Some(WriteResult::NotAttempted) => {}
            _ => {
                *slot = Some(WriteResult::Applied {
                    id,
                    rejected: Vec::new(),
                })
            }
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
    /// had no main writes, or the fence refused them all) is applied, with its refused writes.
    pub fn into_results(self) -> Vec<WriteResult> {
        self.slots
            .into_iter()
            .zip(self.rejected)
            .map(|(slot, rejected)| match slot {
                None => WriteResult::Applied { id: None, rejected },
                Some(WriteResult::Applied { id, .. }) => WriteResult::Applied { id, rejected },
                Some(other) => other,
            })
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
        let mut results = BatchResults::new(1, None);
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
        let mut results = BatchResults::new(2, None);
        results.succeeded(0, WriteRole::ParentStub, Some("stub".into()));
        assert_eq!(results.get(0), None);
        results.succeeded(0, WriteRole::Main, Some("a01".into()));
        results.succeeded(0, WriteRole::Main, Some("a02".into()));
        assert_eq!(
            results.into_results(),
            vec![
                WriteResult::Applied {
                    id: Some("a01".into()),
                    rejected: vec![]
                },
                WriteResult::Applied {
                    id: None,
                    rejected: vec![]
                }
            ]
        );
    }

    #[test]
    fn a_write_not_attempted_leaves_the_event_pending_even_after_a_success() {
        let mut results = BatchResults::new(1, None);
        results.succeeded(0, WriteRole::Main, Some("a01".into()));
        results.not_attempted(0);
        results.succeeded(0, WriteRole::Main, Some("a02".into()));
        assert_eq!(results.into_results(), vec![WriteResult::NotAttempted]);
    }

    #[test]
    fn the_fence_supersedes_a_write_and_other_refusals_fail_the_event() {
        let fence = Fence {
            event_time_field: "Last_Stripe_Event_At__c".into(),
            event_id_field: "Last_Stripe_Event_ID__c".into(),
        };
        let write = RecordWrite {
            pending_lookups: Default::default(),
            sobject: "Stripe_Subscription__c".into(),
            target: crate::mapping::RecordTarget::ExternalId {
                field: "Stripe_Subscription_ID__c".into(),
                value: "sub_1".into(),
            },
            fields: Default::default(),
            role: WriteRole::Main,
            aspect: None,
        };
        let refusal = |field: &str| ApiError {
            code: "FIELD_CUSTOM_VALIDATION_EXCEPTION".into(),
            message: "No.".into(),
            fields: vec![field.into()],
        };
        let mut results = BatchResults::new(3, Some(&fence));
        results.refused(
            0,
            &write,
            FailureClass::Permanent,
            &refusal("Last_Stripe_Event_At__c"),
        );
        results.succeeded(0, WriteRole::Main, Some("a02".into()));
        results.refused(1, &write, FailureClass::Permanent, &refusal("Amount__c"));
        let mut unfenced = BatchResults::new(1, None);
        unfenced.refused(
            0,
            &write,
            FailureClass::Permanent,
            &refusal("Last_Stripe_Event_At__c"),
        );
        results.refused(
            2,
            &write,
            FailureClass::Permanent,
            &refusal("Last_Stripe_Event_At__c"),
        );
        let results = results.into_results();
        assert_eq!(
            results[0],
            WriteResult::Applied {
                id: Some("a02".into()),
                rejected: vec![RecordKey::of(&write)]
            }
        );
        assert!(
            matches!(&results[1], WriteResult::Failed(f) if f.code == "FIELD_CUSTOM_VALIDATION_EXCEPTION")
        );
        assert_eq!(
            results[2],
            WriteResult::Applied {
                id: None,
                rejected: vec![RecordKey::of(&write)]
            },
            "an event whose every write the fence refused is settled, not failed"
        );
        assert!(
            matches!(&unfenced.into_results()[0], WriteResult::Failed(_)),
            "without a fence in the mapping, a validation rule is a failure"
        );
    }

    #[test]
    fn a_failed_call_becomes_the_failure_of_its_records() {
        let error = SalesforceError::Transport("connection reset".into());
        let failure = Failure::from(&error);
        assert_eq!(failure.class, FailureClass::Retryable);
        assert_eq!(failure.code, "CALL_FAILED");
    }
}
