//! The operator commands' arguments (clap) and how each one runs: connect, ask, render.
//! Each function returns the text to print, so the binary decides where output goes and
//! turns errors into its exit status.

use std::time::Duration;

use clap::{ArgGroup, Args, Subcommand};
use common::time::unix_millis;

use serde::Serialize;

use super::{dead_letters::PurgeScope, format, render, replay::Selection, Ops, OpsError};
use crate::{config::FleetConfig, store};

/// `--json`, shared by every operator command.
#[derive(Debug, Clone, Args)]
pub struct Output {
    /// Print JSON (for scripts) instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `workers pending`.
#[derive(Debug, Clone, Args)]
pub struct PendingArgs {
    /// Table or JSON.
    #[command(flatten)]
    output: Output,
}

/// Arguments of `workers status`.
#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// The Stripe event id (`evt_...`).
    pub event_id: String,
    /// Table or JSON.
    #[command(flatten)]
    output: Output,
}

/// `workers dlq ...`: the dead-letter stream.
#[derive(Debug, Clone, Subcommand)]
pub enum DlqCommand {
    /// List dead letters, newest first (never prints payloads).
    List {
        /// Show at most this many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Only dead letters of this Stripe event type (e.g. `invoice.payment_failed`).
        #[arg(long = "type", value_name = "TYPE")]
        event_type: Option<String>,
        /// Table or JSON.
        #[command(flatten)]
        output: Output,
    },
    /// Print every field of one dead letter, the payload pretty-printed. Payloads may hold
    /// personal data: handle the output accordingly.
    Show {
        /// The dead-letter id (first column of `dlq list`).
        id: String,
        /// Table or JSON.
        #[command(flatten)]
        output: Output,
    },
    /// Put dead events back on the stream they died on, with attempts reset to 0.
    ///
    /// Atomic per event (one Lua script): the event is back on its stream and out of the
    /// dead-letter stream, or neither. The bridge's dedupe record does not block it. If a
    /// newer event for the same Stripe object was applied meanwhile, the replayed event
    /// ends `stale`: newest wins. Bridge dead letters (not Stripe events) are refused.
    Replay(ReplayArgs),
    /// Delete dead letters for good.
    Purge(PurgeArgs),
}

/// Arguments of `workers dlq replay`.
#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("which").required(true).args(["id", "event_type", "all"])))]
pub struct ReplayArgs {
    /// One dead letter by id.
    id: Option<String>,
    /// Every dead letter of this Stripe event type.
    #[arg(long = "type", value_name = "TYPE")]
    event_type: Option<String>,
    /// Every dead letter (bridge dead letters are reported as refused).
    #[arg(long)]
    all: bool,
    /// Show what would be replayed; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Table or JSON.
    #[command(flatten)]
    output: Output,
}

/// Arguments of `workers dlq purge`.
#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("which").required(true).args(["older_than", "all"])))]
pub struct PurgeArgs {
    /// Only dead letters older than this: `90s`, `30m`, `12h`, `7d`, `2w`.
    #[arg(long, value_name = "AGE", value_parser = parse_age)]
    older_than: Option<Duration>,
    /// Every dead letter; requires `--yes`.
    #[arg(long)]
    all: bool,
    /// Confirm `--all`.
    #[arg(long)]
    yes: bool,
    /// Table or JSON.
    #[command(flatten)]
    output: Output,
}

fn parse_age(text: &str) -> Result<Duration, String> {
    format::parse_duration(text)
        .ok_or_else(|| format!("`{text}` is not an age; use a number and s, m, h, d or w, e.g. 7d"))
}

/// Connects to the fleet's Redis as configured by `REDIS_URL`, `REDIS_KEY_PREFIX` and
/// `LIFECYCLE_TTL_SECS`. No Salesforce or SQS settings are needed.
pub fn connect(fleet: &FleetConfig) -> Result<Ops, OpsError> {
    let conn = store::connect(&fleet.redis_url)?;
    Ok(Ops::new(conn, fleet.keys(), fleet.lifecycle_retention))
}

/// Either the JSON of `value` or the text `human` builds.
fn emit<T: Serialize>(
    output: &Output,
    value: &T,
    human: impl FnOnce(&T) -> String,
) -> Result<String, OpsError> {
    if output.json {
        Ok(serde_json::to_string_pretty(value)? + "\n")
    } else {
        Ok(human(value))
    }
}

/// `workers pending`.
pub async fn pending(ops: &Ops, args: PendingArgs) -> Result<String, OpsError> {
    let report = ops.pending().await?;
    emit(&args.output, &report, render::pending)
}

/// `workers status EVENT_ID`.
pub async fn status(ops: &Ops, args: StatusArgs) -> Result<String, OpsError> {
    let record = ops.status(&args.event_id).await?;
    emit(&args.output, &record, |r| {
        render::lifecycle(r, unix_millis())
    })
}

/// `workers dlq ...`.
pub async fn dlq(ops: &Ops, command: DlqCommand) -> Result<String, OpsError> {
    let now = unix_millis();
    match command {
        DlqCommand::List {
            limit,
            event_type,
            output,
        } => {
            let letters = ops.list_dead_letters(event_type.as_deref(), limit).await?;
            emit(&output, &letters, |l| render::dead_letter_list(l, now))
        }
        DlqCommand::Show { id, output } => {
            let letter = ops.dead_letter(&id).await?;
            emit(&output, &letter, |l| render::dead_letter(l, now))
        }
        DlqCommand::Replay(args) => {
            let selection = match (args.id, args.event_type) {
                (Some(id), _) => Selection::One(id),
                (None, Some(event_type)) => Selection::Type(event_type),
                (None, None) => Selection::All,
            };
            let report = ops.replay(&selection, args.dry_run).await?;
            emit(&args.output, &report, render::replay)
        }
        DlqCommand::Purge(args) => {
            let scope = match (args.older_than, args.all) {
                (Some(age), _) => PurgeScope::OlderThan(age),
                (None, _) if !args.yes => {
                    return Err(OpsError::Usage(
                        "`dlq purge --all` deletes every dead letter; add --yes to confirm".into(),
                    ))
                }
                (None, _) => PurgeScope::All,
            };
            let deleted = ops.purge_dead_letters(scope).await?;
            let answer = serde_json::json!({ "purged": deleted });
            emit(&args.output, &answer, |_| {
                render::purge(deleted, args.older_than)
            })
        }
    }
}
