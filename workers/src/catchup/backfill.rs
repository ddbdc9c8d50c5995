//! `workers backfill (--since AGE | --from TIME) [--types …]`: every Stripe event since an
//! instant, oldest first, through the bridge's idempotent enqueue. Events the fleet already
//! has add nothing, so a backfill over a period the webhooks covered costs Stripe list
//! requests and Redis lookups, no Salesforce call.
//!
//! Resumable: after each page the run (its start, types, cursor and counts) is saved in
//! `{prefix}:backfill`; the same command run again after an interruption (Ctrl-C, a
//! Stripe or Redis failure) continues after the cursor. A finished run forgets it.

use std::{io::IsTerminal, time::Duration};

use clap::{ArgGroup, Args};
use common::time::{iso8601_millis, unix_seconds};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::{
    enqueue::Tally,
    feed::{EventFeed, TypeFilter},
    parts, EventSource,
};
use crate::{
    config::{FleetConfig, StripeConfig},
    ops::format::parse_duration,
    store::{BackfillRun, CatchupStore},
};

/// Arguments of `workers backfill`.
#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("start").required(true).args(["since", "from"])))]
pub struct BackfillArgs {
    /// Events of the last AGE: `90s`, `30m`, `6h`, `7d` (Stripe keeps events 30 days).
    #[arg(long, value_name = "AGE", value_parser = parse_age)]
    pub since: Option<Duration>,
    /// Events created at or after TIME: RFC 3339 (`2026-12-04T09:00:00Z`) or Unix seconds.
    #[arg(long, value_name = "TIME", value_parser = parse_instant)]
    pub from: Option<i64>,
    /// Event types, comma-separated, or `*` for all (default: the types the mapping
    /// handles).
    #[arg(long, value_name = "TYPES", value_parser = TypeFilter::parse)]
    pub types: Option<TypeFilter>,
    /// Start afresh even when an interrupted run of the same types could be resumed.
    #[arg(long)]
    pub fresh: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    /// The mapping (for the default types) and the routing rules.
    #[command(flatten)]
    pub source: EventSource,
}

fn parse_age(text: &str) -> Result<Duration, String> {
    parse_duration(text)
        .ok_or_else(|| format!("`{text}` is not an age; use a number and s, m, h, d or w, e.g. 6h"))
}

/// `--from`: RFC 3339 or Unix seconds.
fn parse_instant(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<i64>() {
        return Ok(secs);
    }
    text.parse::<jiff::Timestamp>()
        .map(|t| t.as_second())
        .map_err(|e| {
            format!("`{text}` is neither RFC 3339 (2026-12-04T09:00:00Z) nor Unix seconds: {e}")
        })
}

/// What a backfill did.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The first instant listed (ISO-8601 UTC).
    pub from: String,
    /// The types listed.
    pub types: String,
    /// Whether an interrupted run was resumed (its counts included).
    pub resumed: bool,
    /// The counts.
    #[serde(flatten)]
    pub tally: Tally,
}

impl Summary {
    /// The summary as printed: one line, or pretty JSON with `--json`.
    pub fn render(&self, json: bool) -> String {
        if json {
            let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
            text.push('\n');
            text
        } else {
            self.to_string()
        }
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let resumed = if self.resumed { " (resumed)" } else { "" };
        writeln!(
            f,
            "backfill from {}{resumed}, types {}: {}",
            self.from, self.types, self.tally
        )
    }
}

/// How to start: a new run, or the interrupted one when it lists the same types.
pub fn plan(
    existing: Option<BackfillRun>,
    from: i64,
    types: &str,
    fresh: bool,
) -> (BackfillRun, bool) {
    match existing {
        Some(run) if !fresh && run.types == types => (run, true),
        _ => (
            BackfillRun {
                from,
                types: types.to_owned(),
                ..BackfillRun::default()
            },
            false,
        ),
    }
}

fn tally_of(run: &BackfillRun) -> Tally {
    Tally {
        listed: run.listed,
        enqueued_high: run.enqueued_high,
        enqueued_low: run.enqueued_low,
        already_seen: run.seen,
        skipped: run.skipped,
    }
}

fn record(run: &mut BackfillRun, tally: &Tally) {
    run.listed = tally.listed;
    run.enqueued_high = tally.enqueued_high;
    run.enqueued_low = tally.enqueued_low;
    run.seen = tally.already_seen;
    run.skipped = tally.skipped;
}

/// Runs (or resumes) a backfill until the newest event, or until `shutdown` (the run
/// stays saved). The error names how to resume.
pub async fn run(
    fleet: &FleetConfig,
    stripe: &StripeConfig,
    args: &BackfillArgs,
    shutdown: CancellationToken,
) -> anyhow::Result<Summary> {
    let types = args.source.types(args.types.as_ref())?;
    let parts = parts(fleet, stripe, &args.source, types.clone(), shutdown.clone())?;
    let state = CatchupStore::new(parts.enqueuer.store().connection(), parts.keys.clone());
    let from = match (args.from, args.since) {
        (Some(from), _) => from,
        (None, Some(age)) => {
            unix_seconds().saturating_sub(i64::try_from(age.as_secs()).unwrap_or(i64::MAX))
        }
        (None, None) => anyhow::bail!("--since or --from is required"),
    };
    let (mut run, resumed) = plan(
        state.backfill_run().await?,
        from,
        &types.to_string(),
        args.fresh,
    );
    let mut tally = tally_of(&run);
    let mut progress = Progress::new();
    let feed = &parts.feed;
    if run.cursor.is_none() {
        run.cursor = match start(feed, run.from).await? {
            Start::After(anchor) => Some(anchor),
            Start::At(first) => {
                tally.count(&parts.enqueuer.enqueue(&first).await?);
                Some(first.id)
            }
            Start::Nothing => None,
        };
        record(&mut run, &tally);
        state.save_backfill(&run).await?;
    }
    while let Some(cursor) = run.cursor.clone() {
        if shutdown.is_cancelled() {
            progress.done();
            anyhow::bail!(
                "interrupted after {tally}; the same command resumes after {cursor} (--fresh starts over)"
            );
        }
        let page = feed.newer_than(&cursor).await.map_err(|e| {
            anyhow::anyhow!("listing events after {cursor}: {e}; the same command resumes there")
        })?;
        for event in &page.events {
            tally.count(&parts.enqueuer.enqueue(event).await?);
        }
        if let Some(next) = page.next_cursor {
            run.cursor = Some(next);
        }
        record(&mut run, &tally);
        state.save_backfill(&run).await?;
        progress.show(&tally, page.events.last().map(|e| e.created));
        if !page.has_more {
            break;
        }
    }
    progress.done();
    state.clear_backfill().await?;
    Ok(Summary {
        from: iso8601_millis(run.from.saturating_mul(1000)),
        types: run.types,
        resumed,
        tally,
    })
}

/// Where listing starts.
enum Start {
    /// After this event (the newest before the instant; not itself wanted).
    After(String),
    /// At this event (the oldest since the instant), which is wanted.
    At(stripe_client::events::Event),
    /// No event since the instant.
    Nothing,
}

async fn start(feed: &EventFeed, from: i64) -> anyhow::Result<Start> {
    if let Some(anchor) = feed.newest_before(from).await? {
        return Ok(Start::After(anchor.id));
    }
    Ok(match feed.oldest_since(from).await? {
        Some(first) => Start::At(first),
        None => Start::Nothing,
    })
}

/// One line of progress on stderr, redrawn per page, only when stderr is a terminal (a
/// script reading the output gets the summary alone). Shared with `workers import`.
pub(crate) struct Progress {
    terminal: bool,
    drawn: bool,
}

impl Progress {
    pub(crate) fn new() -> Self {
        Self {
            terminal: std::io::stderr().is_terminal(),
            drawn: false,
        }
    }

    fn show(&mut self, tally: &Tally, newest: Option<i64>) {
        let at = newest.map_or_else(String::new, |created| {
            format!(" — at {}", iso8601_millis(created.saturating_mul(1000)))
        });
        self.line(&format!("{tally}{at}"));
    }

    /// Redraws the line with `text`.
    pub(crate) fn line(&mut self, text: &str) {
        if !self.terminal {
            return;
        }
        eprint!("\r\x1b[K{text}");
        self.drawn = true;
    }

    /// Ends the line, if one was drawn.
    pub(crate) fn done(&mut self) {
        if self.drawn {
            eprintln!();
            self.drawn = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interrupted_run_of_the_same_types_is_resumed() {
        let interrupted = BackfillRun {
            from: 100,
            types: "customer.created".into(),
            cursor: Some("evt_9".into()),
            listed: 7,
            ..BackfillRun::default()
        };
        let (run, resumed) = plan(Some(interrupted.clone()), 500, "customer.created", false);
        assert!(resumed);
        assert_eq!(run, interrupted);
        let (run, resumed) = plan(Some(interrupted.clone()), 500, "*", false);
        assert!(!resumed);
        assert_eq!((run.from, run.cursor, run.listed), (500, None, 0));
        let (_, resumed) = plan(Some(interrupted), 500, "customer.created", true);
        assert!(!resumed);
    }

    #[test]
    fn instants_are_rfc_3339_or_unix_seconds() {
        assert_eq!(parse_instant("1786000000"), Ok(1_786_000_000));
        assert_eq!(parse_instant("1970-01-01T00:01:00Z"), Ok(60));
        assert!(parse_instant("yesterday").is_err());
        assert_eq!(parse_age("6h"), Ok(Duration::from_secs(21_600)));
        assert!(parse_age("6").is_err());
    }
}
