//! The human-readable form of every operator answer: aligned tables and `field: value`
//! blocks, times as ISO-8601 UTC with their age. (`--json` prints the answers' serde form
//! instead.) Pure functions of the answer and "now", so they are easy to test.

use std::time::Duration;

use super::{
    dead_letters::{DeadLetter, DeadLetterSummary},
    format::{self, Timestamp},
    pending::PendingReport,
    replay::ReplayReport,
    status::Lifecycle,
};

/// Error text width in `dlq list`.
const ERROR_WIDTH: usize = 48;

/// Columns padded to their widest cell, two spaces apart.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut out = line(headers.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

fn or_dash(value: Option<&str>) -> String {
    value.unwrap_or("-").to_owned()
}

fn when(at: Option<Timestamp>, now_ms: i64) -> String {
    at.map_or("-".to_owned(), |t| t.with_age(now_ms))
}

/// `dlq list`: one row per dead letter, the error truncated, never the payload.
pub fn dead_letter_list(letters: &[DeadLetterSummary], now_ms: i64) -> String {
    if letters.is_empty() {
        return "No dead letters.\n".to_owned();
    }
    let rows: Vec<Vec<String>> = letters
        .iter()
        .map(|d| {
            vec![
                d.id.clone(),
                or_dash(d.event_id.as_deref()),
                or_dash(d.event_type.as_deref()),
                format!("{}/{}", d.source, d.reason),
                format::truncate(&d.error, ERROR_WIDTH),
                when(d.dead_at, now_ms),
                d.attempts.map_or("-".to_owned(), |a| a.to_string()),
            ]
        })
        .collect();
    let headers = [
        "ID",
        "EVENT",
        "TYPE",
        "SOURCE/REASON",
        "ERROR",
        "DEAD AT",
        "ATTEMPTS",
    ];
    table(&headers, &rows)
}

/// `dlq show`: every field, then the payload pretty-printed.
pub fn dead_letter(letter: &DeadLetter, now_ms: i64) -> String {
    let mut fields = vec![
        ("id", letter.id.clone()),
        ("source", letter.source.clone()),
        ("reason", letter.reason.clone()),
        ("error", letter.error.clone()),
        ("error_detail", or_dash(letter.error_detail.as_deref())),
        ("dead_at", when(letter.dead_at, now_ms)),
        ("event_id", or_dash(letter.event_id.as_deref())),
        ("type", or_dash(letter.event_type.as_deref())),
        ("object_id", or_dash(letter.object_id.as_deref())),
        ("created", when(letter.created, now_ms)),
        (
            "attempts",
            letter.attempts.map_or("-".to_owned(), |a| a.to_string()),
        ),
        ("received_at", when(letter.received_at, now_ms)),
    ];
    fields.extend(letter.other.iter().map(|(k, v)| (k.as_str(), v.clone())));
    let mut out = block(&fields);
    let payload = match &letter.payload {
        None => "-".to_owned(),
        Some(serde_json::Value::String(raw)) => raw.clone(),
        Some(value) => serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string()),
    };
    out.push_str("payload:\n");
    out.push_str(&payload);
    out.push('\n');
    out
}

/// `name: value` lines with the values aligned.
fn block(fields: &[(&str, String)]) -> String {
    let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 1;
    fields
        .iter()
        .map(|(k, v)| format!("{:<width$} {v}\n", format!("{k}:")))
        .collect()
}

/// `dlq replay`: how many went back, and each refusal with its reason.
pub fn replay(report: &ReplayReport) -> String {
    let verb = if report.dry_run {
        "Would replay"
    } else {
        "Replayed"
    };
    let mut out = format!(
        "{verb} {} event(s); refused {}.\n",
        report.replayed.len(),
        report.refused.len()
    );
    if !report.replayed.is_empty() {
        let rows: Vec<Vec<String>> = report
            .replayed
            .iter()
            .map(|r| {
                vec![
                    r.dead_id.clone(),
                    r.event_id.clone(),
                    r.stream.clone(),
                    r.entry_id.clone(),
                ]
            })
            .collect();
        out.push_str(&table(&["DEAD ID", "EVENT", "STREAM", "NEW ENTRY"], &rows));
    }
    for refused in &report.refused {
        out.push_str(&format!(
            "refused {}: {}\n",
            refused.dead_id, refused.reason
        ));
    }
    out
}

/// `dlq purge`.
pub fn purge(deleted: u64, older_than: Option<Duration>) -> String {
    match older_than {
        Some(age) => format!(
            "Purged {deleted} dead letter(s) older than {}.\n",
            format::duration(age)
        ),
        None => format!("Purged {deleted} dead letter(s).\n"),
    }
}

/// `pending`: one table of streams, one of consumers.
pub fn pending(report: &PendingReport) -> String {
    let idle = |ms: u64| format::duration(Duration::from_millis(ms));
    let mut stream_rows = Vec::new();
    let mut consumer_rows = Vec::new();
    for stream in &report.streams {
        let Some(group) = &stream.group else {
            stream_rows.push(vec![
                stream.stream.clone(),
                stream.length.to_string(),
                "(no group)".to_owned(),
                "-".to_owned(),
                "-".to_owned(),
                "-".to_owned(),
            ]);
            continue;
        };
        stream_rows.push(vec![
            stream.stream.clone(),
            stream.length.to_string(),
            group.name.clone(),
            group.lag.map_or("?".to_owned(), |l| l.to_string()),
            group.pending.to_string(),
            group.oldest_pending.as_ref().map_or("-".to_owned(), |o| {
                format!(
                    "{} ({}, {} deliveries)",
                    idle(o.idle_ms),
                    o.entry_id,
                    o.deliveries
                )
            }),
        ]);
        consumer_rows.extend(group.consumers.iter().map(|c| {
            vec![
                stream.stream.clone(),
                c.name.clone(),
                c.pending.to_string(),
                idle(c.idle_ms),
            ]
        }));
    }
    let mut out = table(
        &[
            "STREAM",
            "LENGTH",
            "GROUP",
            "LAG",
            "PENDING",
            "OLDEST PENDING IDLE",
        ],
        &stream_rows,
    );
    out.push('\n');
    if consumer_rows.is_empty() {
        out.push_str("No consumers.\n");
    } else {
        out.push_str(&table(
            &["STREAM", "CONSUMER", "PENDING", "IDLE"],
            &consumer_rows,
        ));
    }
    out.push_str(&format!(
        "\nretry schedule: {}\ndead letters:   {}\n",
        report.retry_scheduled, report.dead_letters
    ));
    out
}

/// `status`: the lifecycle as a block, times with their age.
pub fn lifecycle(record: &Lifecycle, now_ms: i64) -> String {
    let text = |v: &Option<String>| or_dash(v.as_deref());
    block(&[
        ("event", record.event_id.clone()),
        ("state", record.state.clone()),
        ("stream", text(&record.stream)),
        ("entry_id", text(&record.entry_id)),
        ("consumer", text(&record.consumer)),
        (
            "attempts",
            record.attempts.map_or("-".to_owned(), |a| a.to_string()),
        ),
        ("enqueued_at", when(record.enqueued_at, now_ms)),
        ("processing_at", when(record.processing_at, now_ms)),
        ("finished_at", when(record.finished_at, now_ms)),
        ("next_attempt_at", when(record.next_attempt_at, now_ms)),
        ("replayed_at", when(record.replayed_at, now_ms)),
        ("salesforce_id", text(&record.salesforce_id)),
        ("failure_class", text(&record.failure_class)),
        ("last_error", text(&record.last_error)),
        ("dead_entry", text(&record.dead_entry)),
        (
            "expires_in",
            record.expires_in_ms.map_or("-".to_owned(), |ms| {
                format::duration(Duration::from_millis(ms.unsigned_abs()))
            }),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns() {
        let out = table(
            &["A", "LONGER"],
            &[vec!["wide cell".to_owned(), "x".to_owned()]],
        );
        assert_eq!(out, "A          LONGER\nwide cell  x\n");
    }
}
