//! `dlq replay`: dead events back onto the stream they died on (`lua/replay_dead_letter.lua`).
//!
//! The script XADDs the event with `attempts` 0, sets its lifecycle to `enqueued` with a
//! `replayed_at` time, and XDELs the dead letter, atomically: a crash leaves the event in
//! exactly one place. It writes to the stream directly rather than through the bridge's
//! enqueue script, so the dedupe marker `{prefix}:seen:<event id>` does not block a replay.
//! Replayed events still pass the workers' claim check: if a newer event for the same
//! Stripe object has been applied meanwhile, the replayed one ends `stale` (newest wins),
//! which is correct. Bridge dead letters are not Stripe events and are refused.
//!
//! Dead letters of inbound events in the fleet-wide dead stream date from a fleet that ran
//! with one partition: their stream there (`{prefix}:high`, `{prefix}:low`) is no longer
//! read once `PARTITIONS` is larger. They are first moved into their partition's dead
//! stream (copy, then delete: two slots, so not one script; a crash in between leaves the
//! letter in both, and replaying it twice ends the second as a duplicate), then replayed
//! from there like any other.

use common::time::unix_millis;
use serde::Serialize;

use super::{
    dead_letters::{DeadLetter, PAGE},
    Ops, OpsError,
};

const REPLAY_SCRIPT: &str = include_str!("../../../lua/replay_dead_letter.lua");

/// Dead letters per script call when replaying many: one round trip per batch, and a
/// script short enough not to hold Redis up.
const BATCH: usize = 50;

/// Which dead letters to replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// One, by dead-letter entry id. Refusal or absence is an error.
    One(String),
    /// Every dead letter of this Stripe event type.
    Type(String),
    /// Every dead letter.
    All,
}

/// One event put back (or, in a dry run, that would be).
#[derive(Debug, Clone, Serialize)]
pub struct Replayed {
    /// The dead-letter entry id it had.
    pub dead_id: String,
    /// The Stripe event id.
    pub event_id: String,
    /// `high` or `low`.
    pub stream: String,
    /// The new stream entry id (empty in a dry run).
    pub entry_id: String,
}

/// One dead letter left where it is, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Refused {
    /// The dead-letter entry id.
    pub dead_id: String,
    /// Why it was not replayed.
    pub reason: String,
}

/// What a replay did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReplayReport {
    /// True when nothing was changed.
    pub dry_run: bool,
    /// Events back on a stream.
    pub replayed: Vec<Replayed>,
    /// Dead letters left in place.
    pub refused: Vec<Refused>,
}

impl Ops {
    /// Replays the selected dead letters (see the module documentation). With `dry_run`
    /// nothing changes and the report says what would have happened.
    pub async fn replay(
        &self,
        selection: &Selection,
        dry_run: bool,
    ) -> Result<ReplayReport, OpsError> {
        let mut report = ReplayReport {
            dry_run,
            ..ReplayReport::default()
        };
        if let Selection::One(id) = selection {
            let letter = self.dead_letter(id).await?;
            self.replay_page(vec![letter], dry_run, &mut report).await?;
            if let Some(refused) = report.refused.pop() {
                return Err(match refused.reason.as_str() {
                    MISSING => OpsError::NoSuchDeadLetter(refused.dead_id),
                    _ => OpsError::NotReplayable {
                        id: refused.dead_id,
                        reason: refused.reason,
                    },
                });
            }
            return Ok(report);
        }
        let wanted = match selection {
            Selection::Type(event_type) => Some(event_type.as_str()),
            _ => None,
        };
        for (partition, _) in self.keys.event_spaces() {
            let mut after: Option<String> = None;
            loop {
                let start = after.as_ref().map_or("-".to_owned(), |id| format!("({id}"));
                let page = self.dead_letters_from(partition, &start, "+", PAGE).await?;
                let Some(last) = page.last() else { break };
                after = Some(super::dead_letters::entry_id(&last.id).to_owned());
                let selected = page
                    .into_iter()
                    .filter(|d| wanted.is_none() || d.event_type.as_deref() == wanted)
                    .collect();
                self.replay_page(selected, dry_run, &mut report).await?;
            }
        }
        Ok(report)
    }

    /// Replays `letters`, refusing bridge dead letters without asking Redis.
    async fn replay_page(
        &self,
        letters: Vec<DeadLetter>,
        dry_run: bool,
        report: &mut ReplayReport,
    ) -> Result<(), OpsError> {
        let (candidates, refused): (Vec<_>, Vec<_>) =
            letters.into_iter().partition(DeadLetter::is_replayable);
        let candidates = if dry_run {
            candidates
        } else {
            self.move_stranded(candidates).await?
        };
        report.refused.extend(refused.into_iter().map(|d| Refused {
            reason: format!(
                "source `{}` ({}): only events that died on a stream can be replayed; \
                 bridge dead letters are not Stripe events",
                d.source, d.reason
            ),
            dead_id: d.id,
        }));
        // One script call touches one dead-letter stream (one slot): batch per stream.
        let mut by_stream: std::collections::BTreeMap<Option<u16>, Vec<DeadLetter>> =
            std::collections::BTreeMap::new();
        for letter in candidates {
            by_stream
                .entry(letter.partition())
                .or_default()
                .push(letter);
        }
        for batch in by_stream.values().flat_map(|letters| letters.chunks(BATCH)) {
            if dry_run {
                report.replayed.extend(batch.iter().map(|d| Replayed {
                    dead_id: d.id.clone(),
                    event_id: d.event_id.clone().unwrap_or_default(),
                    stream: d.source.clone(),
                    entry_id: String::new(),
                }));
            } else {
                self.replay_batch(batch, report).await?;
            }
        }
        Ok(())
    }

    /// Moves the letters stranded in the fleet-wide dead stream (see the module
    /// documentation) into their partitions' dead streams; the others pass unchanged. A
    /// letter gone meanwhile passes unchanged too, and the replay reports it missing.
    async fn move_stranded(&self, letters: Vec<DeadLetter>) -> Result<Vec<DeadLetter>, OpsError> {
        let mut placed = Vec::with_capacity(letters.len());
        for letter in letters {
            let stranded = self.keys.partition_count() > 1
                && letter.partition().is_none()
                && matches!(letter.source.as_str(), "high" | "low");
            if !stranded {
                placed.push(letter);
                continue;
            }
            let mut conn = self.conn();
            let old_id = super::dead_letters::entry_id(&letter.id).to_owned();
            let found: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
                .arg(self.keys.dead_letters())
                .arg(&old_id)
                .arg(&old_id)
                .query_async(&mut conn)
                .await?;
            let Some(entry) = found.ids.into_iter().next() else {
                placed.push(letter);
                continue;
            };
            let fields: Vec<(String, String)> = entry
                .map
                .into_iter()
                .filter_map(|(k, v)| redis::from_redis_value::<String>(v).ok().map(|v| (k, v)))
                .collect();
            let field = |name: &str| {
                fields
                    .iter()
                    .find(|(k, _)| k == name)
                    .map_or("", |(_, v)| v.as_str())
            };
            let partition = self
                .keys
                .partition_of_event(field("payload"), field("event_id"));
            let new_id: String = redis::cmd("XADD")
                .arg(self.keys.partition(partition).dead_letters())
                .arg("*")
                .arg(&fields)
                .query_async(&mut conn)
                .await?;
            redis::pipe()
                .atomic()
                .cmd("XDEL")
                .arg(self.keys.dead_letters())
                .arg(&old_id)
                .ignore()
                .cmd("DEL")
                .arg(self.keys.lifecycle(field("event_id")))
                .ignore()
                .query_async::<()>(&mut conn)
                .await?;
            placed.push(DeadLetter {
                id: format!("{partition}/{new_id}"),
                ..letter
            });
        }
        Ok(placed)
    }

    /// One script call for up to [`BATCH`] replayable dead letters.
    async fn replay_batch(
        &self,
        batch: &[DeadLetter],
        report: &mut ReplayReport,
    ) -> Result<(), OpsError> {
        let keys = self.dead_letter_space(batch.first().and_then(DeadLetter::partition));
        let script = redis::Script::new(REPLAY_SCRIPT);
        let mut invocation = script.prepare_invoke();
        invocation
            .key(keys.dead_letters())
            .key(keys.stream(crate::keys::Priority::High))
            .key(keys.stream(crate::keys::Priority::Low))
            .key(keys.stream(crate::keys::Priority::Outbound));
        for letter in batch {
            let event_id = letter.event_id.as_deref().unwrap_or_default();
            invocation.key(keys.lifecycle(event_id));
        }
        invocation
            .arg(unix_millis())
            .arg(self.lifecycle_retention.as_secs().max(1));
        for letter in batch {
            invocation
                .arg(super::dead_letters::entry_id(&letter.id))
                .arg(letter.event_id.as_deref().unwrap_or_default());
        }
        let answers: Vec<(String, String, String)> =
            invocation.invoke_async(&mut self.conn()).await?;
        for (letter, (outcome, detail, entry_id)) in batch.iter().zip(answers) {
            match outcome.as_str() {
                "replayed" => report.replayed.push(Replayed {
                    dead_id: letter.id.clone(),
                    event_id: letter.event_id.clone().unwrap_or_default(),
                    stream: detail,
                    entry_id,
                }),
                "missing" => report.refused.push(Refused {
                    dead_id: letter.id.clone(),
                    reason: MISSING.to_owned(),
                }),
                _ => report.refused.push(Refused {
                    dead_id: letter.id.clone(),
                    reason: detail,
                }),
            }
        }
        Ok(())
    }
}

/// The refusal reason when the dead letter vanished between reading and replaying it
/// (another operator replayed or purged it).
const MISSING: &str = "gone: replayed or purged by someone else meanwhile";
