//! The fleet's shared state as gauges: what waits in SQS, in the streams and in the
//! dead-letter stream, who consumes, and the Salesforce daily usage any replica last saw.
//!
//! Each bridge replica reads it every [`OBSERVE_INTERVAL`] (one `GetQueueAttributes` call
//! and a handful of Redis reads, the same as `workers pending`), so the numbers exist
//! wherever a bridge runs and alert rules take the `max` over replicas.

use std::{collections::HashMap, time::Duration};

use aws_sdk_sqs::types::QueueAttributeName;
use tokio_util::sync::CancellationToken;

use crate::{
    ops::{pending::StreamReport, Ops},
    store::RedisUsageStore,
    telemetry,
};

/// How often the gauges are refreshed.
pub const OBSERVE_INTERVAL: Duration = Duration::from_secs(5);

/// A consumer that read within this time counts as live. Workers read at least every few
/// seconds while idle (their blocking reads time out); a bulk replica polling a long Bulk
/// API job reads again when the job ends, so the margin is generous.
pub const LIVE_CONSUMER_IDLE: Duration = Duration::from_secs(300);

/// The SQS attributes exported, with their gauge names.
const QUEUE_GAUGES: [(QueueAttributeName, &str); 3] = [
    (
        QueueAttributeName::ApproximateNumberOfMessages,
        telemetry::SQS_VISIBLE,
    ),
    (
        QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
        telemetry::SQS_NOT_VISIBLE,
    ),
    (
        QueueAttributeName::ApproximateNumberOfMessagesDelayed,
        telemetry::SQS_DELAYED,
    ),
];

/// What the gauges of one stream show.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StreamGauges {
    /// Delivered, not acknowledged.
    pub pending: u64,
    /// Idle seconds of the oldest pending entry, 0 when none.
    pub oldest_pending_secs: f64,
    /// Consumers idle for less than [`LIVE_CONSUMER_IDLE`].
    pub live_consumers: u64,
}

/// The gauges of a stream from its `workers pending` report (no group yet: all zero).
pub fn stream_gauges(report: &StreamReport) -> StreamGauges {
    let Some(group) = &report.group else {
        return StreamGauges {
            pending: 0,
            oldest_pending_secs: 0.0,
            live_consumers: 0,
        };
    };
    let live_limit = LIVE_CONSUMER_IDLE.as_millis() as u64;
    StreamGauges {
        pending: group.pending,
        oldest_pending_secs: group
            .oldest_pending
            .as_ref()
            .map_or(0.0, |oldest| oldest.idle_ms as f64 / 1000.0),
        live_consumers: group
            .consumers
            .iter()
            .filter(|c| c.idle_ms < live_limit)
            .count() as u64,
    }
}

/// The SQS gauges from a `GetQueueAttributes` answer; attributes missing or not numbers
/// are left out (the gauge keeps its last value).
pub fn queue_gauges(attributes: &HashMap<QueueAttributeName, String>) -> Vec<(&'static str, f64)> {
    QUEUE_GAUGES
        .iter()
        .filter_map(|(attribute, gauge)| {
            let value = attributes.get(attribute)?.parse::<f64>().ok()?;
            Some((*gauge, value))
        })
        .collect()
}

/// Reads SQS and Redis every [`OBSERVE_INTERVAL`] and sets the gauges, until `shutdown`.
/// Failures are logged at debug level and the gauges keep their last values; the bridge's
/// own error counters already show an outage.
pub async fn observe(
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    ops: Ops,
    usage: RedisUsageStore,
    shutdown: CancellationToken,
) {
    loop {
        observe_queue(&sqs, &queue_url).await;
        observe_redis(&ops, &usage).await;
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(OBSERVE_INTERVAL) => {}
        }
    }
}

async fn observe_queue(sqs: &aws_sdk_sqs::Client, queue_url: &str) {
    let answer = sqs
        .get_queue_attributes()
        .queue_url(queue_url)
        .set_attribute_names(Some(QUEUE_GAUGES.iter().map(|(a, _)| a.clone()).collect()))
        .send()
        .await;
    match answer {
        Ok(output) => {
            for (gauge, value) in queue_gauges(&output.attributes.unwrap_or_default()) {
                metrics::gauge!(gauge).set(value);
            }
        }
        Err(error) => {
            metrics::counter!(telemetry::BRIDGE_SQS_ERRORS, "call" => "attributes").increment(1);
            tracing::debug!(error = %aws_sdk_sqs::error::DisplayErrorContext(&error), "Cannot read the queue's attributes.");
        }
    }
}

async fn observe_redis(ops: &Ops, usage: &RedisUsageStore) {
    match ops.pending().await {
        Ok(report) => {
            for stream in &report.streams {
                let gauges = stream_gauges(stream);
                let name = stream.stream.clone();
                metrics::gauge!(telemetry::STREAM_PENDING, "stream" => name.clone())
                    .set(gauges.pending as f64);
                metrics::gauge!(telemetry::STREAM_OLDEST_PENDING, "stream" => name.clone())
                    .set(gauges.oldest_pending_secs);
                metrics::gauge!(telemetry::STREAM_LIVE_CONSUMERS, "stream" => name)
                    .set(gauges.live_consumers as f64);
            }
            metrics::gauge!(telemetry::DEAD_LETTER_BACKLOG).set(report.dead_letters as f64);
            metrics::gauge!(telemetry::RETRY_SCHEDULED).set(report.retry_scheduled as f64);
        }
        Err(error) => tracing::debug!(%error, "Cannot read the streams' state."),
    }
    match usage.read().await {
        Ok(Some(seen)) => {
            metrics::gauge!(telemetry::SALESFORCE_API_USED).set(seen.used as f64);
            metrics::gauge!(telemetry::SALESFORCE_API_MAX).set(seen.max as f64);
        }
        Ok(None) => {}
        Err(error) => tracing::debug!(%error, "Cannot read the Salesforce API usage."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::pending::{ConsumerReport, GroupReport, OldestPending};

    fn consumer(idle_ms: u64) -> ConsumerReport {
        ConsumerReport {
            name: format!("c{idle_ms}"),
            pending: 0,
            idle_ms,
        }
    }

    #[test]
    fn stream_gauges_count_recent_readers_and_the_oldest_idle_time() {
        let report = StreamReport {
            stream: "high".into(),
            key: "{fleet}:high".into(),
            length: 3,
            group: Some(GroupReport {
                name: "realtime".into(),
                lag: Some(1),
                pending: 2,
                oldest_pending: Some(OldestPending {
                    entry_id: "1-0".into(),
                    consumer: "c1".into(),
                    idle_ms: 1500,
                    deliveries: 1,
                }),
                consumers: vec![consumer(10), consumer(299_999), consumer(300_000)],
            }),
        };
        assert_eq!(
            stream_gauges(&report),
            StreamGauges {
                pending: 2,
                oldest_pending_secs: 1.5,
                live_consumers: 2,
            }
        );
        let no_group = StreamReport {
            group: None,
            ..report
        };
        assert_eq!(stream_gauges(&no_group).live_consumers, 0);
    }

    #[test]
    fn queue_gauges_take_the_three_depths_and_skip_what_is_missing_or_not_a_number() {
        let attributes = HashMap::from([
            (
                QueueAttributeName::ApproximateNumberOfMessages,
                "1200".into(),
            ),
            (
                QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
                "x".into(),
            ),
            (QueueAttributeName::VisibilityTimeout, "30".into()),
        ]);
        assert_eq!(
            queue_gauges(&attributes),
            vec![(telemetry::SQS_VISIBLE, 1200.0)]
        );
    }
}
