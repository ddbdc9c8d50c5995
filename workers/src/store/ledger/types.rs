//! The ledger's vocabulary: what a claim answers, how an event and each of its records end,
//! and what a worker holds while it writes. Plain data, so the decisions in
//! `consumer::pipeline` and `consumer::coalesce` are tested without Redis.

use salesforce_client::FailureClass;

use crate::store::{RecordKey, StreamEntry};

/// What [`EventLedger::claim_all`] decided for one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Apply it: for each record it writes (in the order asked), whether it is the event's to
    /// write, or stale (a newer event was applied to it).
    Claimed(Vec<RecordClaim>),
    /// Already applied: acknowledge, change nothing.
    AlreadyApplied,
    /// Another consumer is writing one of its records right now; leave the entry pending.
    Busy(String),
}

/// One record of a claimed event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordClaim {
    /// Claimed: write it.
    Write,
    /// A newer event was applied to this record: drop this write.
    Stale,
}

/// What became of one record of an event, when the event settles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordOutcome {
    /// Salesforce accepted the write: the record now holds this event, and its claim is
    /// released.
    Written,
    /// The fence in Salesforce refused the write (the record holds a newer event): its claim
    /// is released.
    Rejected,
    /// A newer event holds the record (in the ledger, or in the batch, whose winner releases
    /// the claim): nothing changes.
    Superseded,
    /// Not written (the event failed or was not attempted): its claim is released.
    Released,
}

impl RecordOutcome {
    /// The character `lua/record_applied.lua` takes.
    pub(super) fn code(self) -> char {
        match self {
            RecordOutcome::Written => 'a',
            RecordOutcome::Rejected => 'r',
            RecordOutcome::Superseded => 's',
            RecordOutcome::Released => '-',
        }
    }

    /// Whether operators see the write as superseded in the lifecycle record.
    pub(super) fn superseded(self) -> bool {
        matches!(self, RecordOutcome::Rejected | RecordOutcome::Superseded)
    }
}

/// How an event left the stream successfully.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// Salesforce accepted it.
    Applied,
    /// Every record it writes took a newer event instead.
    Superseded,
    /// It had been applied before (a redelivery).
    Duplicate,
    /// Every record it writes already holds a newer event.
    Stale,
    /// The mapping has no rule for its type (outbound: nothing Stripe cares about changed).
    Unhandled,
    /// Outbound: a change the fleet itself made, coming back.
    Echo,
}

impl Finish {
    /// The lifecycle state recorded.
    pub fn label(self) -> &'static str {
        match self {
            Finish::Applied => "applied",
            Finish::Superseded => "superseded",
            Finish::Duplicate => "duplicate",
            Finish::Stale => "stale",
            Finish::Unhandled => "unhandled",
            Finish::Echo => "echo",
        }
    }
}

/// Where a failed event goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deferral {
    /// Back on its stream at this time (Unix ms).
    RetryAt(i64),
    /// To the dead-letter stream.
    Dead,
}

/// Why an attempt failed, as recorded in the lifecycle and the dead letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Whether trying again can help; recorded as its label (`retryable`, `permanent`, ...).
    pub class: FailureClass,
    /// Salesforce code or our own (`MAPPING_ERROR`).
    pub code: String,
    /// A description without record values (Salesforce's messages quote them; see
    /// `salesforce_client::redact`): what the lifecycle, `dlq list` and the status API show.
    pub message: String,
    /// The message as Salesforce wrote it, when redaction changed it: kept only in the dead
    /// letter (`error_detail`), which `dlq show` prints with its payload.
    pub detail: Option<String>,
}

/// A stream entry as a worker holds it: where it is and what it says.
#[derive(Debug, Clone)]
pub struct HeldEntry {
    /// The stream entry id (`""` if the event is not in a stream).
    pub entry_id: String,
    /// The event.
    pub entry: StreamEntry,
    /// The partition whose stream holds it (0 for the fleet-wide outbound stream): its
    /// ledger keys live there.
    pub partition: u16,
}

/// How one event of a batch leaves the stream.
#[derive(Debug, Clone)]
pub enum Settlement {
    /// Done: applied, superseded, a duplicate, stale or unhandled.
    Finish {
        /// The entry.
        held: HeldEntry,
        /// How it ended.
        finish: Finish,
        /// The record id to remember in the lifecycle, if any.
        salesforce_id: Option<String>,
        /// The records it claimed and what became of each.
        records: Vec<(RecordKey, RecordOutcome)>,
    },
    /// Failed: to the retry schedule or the dead letters. `held.entry.attempts` must
    /// already count this attempt.
    Defer {
        /// The entry.
        held: HeldEntry,
        /// Where it goes.
        deferral: Deferral,
        /// Why.
        failure: Failure,
        /// The records it claimed: their claims are released.
        records: Vec<RecordKey>,
    },
}

/// Reads `lua/claim_event.lua`'s answer.
pub(super) fn parse_claim(answer: &str) -> Claim {
    if answer == "applied" {
        return Claim::AlreadyApplied;
    }
    match answer.strip_prefix("claimed:") {
        Some(verdicts) => Claim::Claimed(
            verdicts
                .chars()
                .map(|verdict| match verdict {
                    's' => RecordClaim::Stale,
                    _ => RecordClaim::Write,
                })
                .collect(),
        ),
        None => Claim::Busy(answer.trim_start_matches("busy:").to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_answers_are_read_record_by_record() {
        assert_eq!(parse_claim("applied"), Claim::AlreadyApplied);
        assert_eq!(parse_claim("claimed:"), Claim::Claimed(vec![]));
        assert_eq!(
            parse_claim("claimed:ws"),
            Claim::Claimed(vec![RecordClaim::Write, RecordClaim::Stale])
        );
        assert_eq!(parse_claim("busy:w1/3"), Claim::Busy("w1/3".into()));
    }
}
