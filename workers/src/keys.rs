//! Redis key names of the whole fleet. One place, so that the README, redis-cli and the
//! code agree. Every key starts with the hash tag `{prefix}` so that all of them live in one
//! cluster slot and any Lua script may touch any of them.

use std::fmt;

/// Consumer group that reads the high-priority stream.
pub const GROUP_REALTIME: &str = "realtime";
/// Consumer group that reads the low-priority stream.
pub const GROUP_BULK: &str = "bulk";
/// Consumer group that reads the outbound stream (Salesforce changes for Stripe).
pub const GROUP_OUTBOUND: &str = "outbound";

/// The fleet's work streams: the two priorities of Stripe events, and the outbound stream of
/// Salesforce changes bound for Stripe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    /// Written to Salesforce in realtime through sObject Collections.
    High,
    /// Batched into Bulk API 2.0 jobs.
    Low,
    /// Salesforce changes that become Stripe calls (`workers outbound`).
    Outbound,
}

impl Priority {
    /// The two streams of Stripe events, high first: what the bridge fills.
    pub const ALL: [Priority; 2] = [Priority::High, Priority::Low];
    /// Every stream, for the operator commands.
    pub const EVERY: [Priority; 3] = [Priority::High, Priority::Low, Priority::Outbound];

    /// The stream's short name, as stored in entries and lifecycle records.
    pub fn name(self) -> &'static str {
        match self {
            Priority::High => "high",
            Priority::Low => "low",
            Priority::Outbound => "outbound",
        }
    }

    /// The consumer group that reads this stream.
    pub fn group(self) -> &'static str {
        match self {
            Priority::High => GROUP_REALTIME,
            Priority::Low => GROUP_BULK,
            Priority::Outbound => GROUP_OUTBOUND,
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Builds key names under one hash-tagged prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySpace {
    tag: String,
}

impl KeySpace {
    /// Keys under `{prefix}`. The prefix must not contain braces (it would break the tag).
    pub fn new(prefix: &str) -> Self {
        Self {
            tag: format!("{{{prefix}}}"),
        }
    }

    /// The priority stream: `{prefix}:high` or `{prefix}:low`.
    pub fn stream(&self, priority: Priority) -> String {
        format!("{}:{}", self.tag, priority.name())
    }

    /// The dead-letter stream: `{prefix}:dead`.
    pub fn dead_letters(&self) -> String {
        format!("{}:dead", self.tag)
    }

    /// The dedupe marker of an event: `{prefix}:seen:<event id>`.
    pub fn seen(&self, event_id: &str) -> String {
        format!("{}:seen:{event_id}", self.tag)
    }

    /// The lifecycle record of an event: `{prefix}:event:<event id>`.
    pub fn lifecycle(&self, event_id: &str) -> String {
        format!("{}:event:{event_id}", self.tag)
    }

    /// Set once an event was applied to Salesforce: `{prefix}:applied:<event id>`.
    pub fn applied(&self, event_id: &str) -> String {
        format!("{}:applied:{event_id}", self.tag)
    }

    /// The newest event applied to one Salesforce record (newest wins per record):
    /// `{prefix}:record:<record>`, a hash of `created` and `event_id`. `record` is a
    /// [`RecordKey`](crate::store::RecordKey).
    pub fn record_version(&self, record: &str) -> String {
        format!("{}:record:{record}", self.tag)
    }

    /// The batch currently writing one Salesforce record: `{prefix}:record-claim:<record>`.
    /// One batch at a time, so two replicas never race two versions of one record.
    pub fn record_claim(&self, record: &str) -> String {
        format!("{}:record-claim:{record}", self.tag)
    }

    /// The retry schedule, event ids by due time: `{prefix}:retry`.
    pub fn retry_schedule(&self) -> String {
        format!("{}:retry", self.tag)
    }

    /// A scheduled retry's entry fields: `{prefix}:retry:<event id>`.
    pub fn retry_entry(&self, event_id: &str) -> String {
        format!("{}{event_id}", self.retry_entry_prefix())
    }

    /// The common prefix of [`retry_entry`](Self::retry_entry) keys, for Lua scripts.
    pub fn retry_entry_prefix(&self) -> String {
        format!("{}:retry:", self.tag)
    }

    /// Granted Salesforce calls in the sliding window: `{prefix}:limiter:calls`.
    pub fn limiter(&self) -> String {
        format!("{}:limiter:calls", self.tag)
    }

    /// Granted Stripe requests in the sliding window: `{prefix}:stripe:limiter`.
    pub fn stripe_limiter(&self) -> String {
        format!("{}:stripe:limiter", self.tag)
    }

    /// The shared circuit breaker: `{prefix}:breaker`.
    pub fn breaker(&self) -> String {
        format!("{}:breaker", self.tag)
    }

    /// The half-open probe lock of the breaker: `{prefix}:breaker:probe`.
    pub fn breaker_probe(&self) -> String {
        format!("{}:breaker:probe", self.tag)
    }

    /// A record known to exist in Salesforce: `{prefix}:known:<sObject>:<external id>`.
    pub fn known_record(&self, sobject: &str, external_id: &str) -> String {
        format!("{}:known:{sobject}:{external_id}", self.tag)
    }

    /// A Bulk job in flight and the entries it carries: `{prefix}:bulkjob:<job id>`.
    pub fn bulk_job(&self, job_id: &str) -> String {
        format!("{}:bulkjob:{job_id}", self.tag)
    }

    /// The Salesforce access token shared by all replicas: `{prefix}:sf:token`.
    pub fn salesforce_token(&self) -> String {
        format!("{}:sf:token", self.tag)
    }

    /// The short lock one replica holds while it fetches a new token: `{prefix}:sf:token-lock`.
    pub fn salesforce_token_lock(&self) -> String {
        format!("{}:sf:token-lock", self.tag)
    }

    /// The replica subscribed to a change event channel: `{prefix}:outbound:lease:<channel>`.
    pub fn outbound_lease(&self, channel: &str) -> String {
        format!("{}:outbound:lease:{channel}", self.tag)
    }

    /// Where a channel's subscription resumes: `{prefix}:outbound:replay:<channel>`, a hash
    /// of the last replay id journaled and its commit time.
    pub fn outbound_replay(&self, channel: &str) -> String {
        format!("{}:outbound:replay:{channel}", self.tag)
    }

    /// The Stripe customer made for a Contact, and the attempt that makes it:
    /// `{prefix}:outbound:customer:<Contact id>`.
    pub fn outbound_customer(&self, contact_id: &str) -> String {
        format!("{}:outbound:customer:{contact_id}", self.tag)
    }

    /// The Salesforce user the fleet writes as: `{prefix}:sf:user`.
    pub fn salesforce_user(&self) -> String {
        format!("{}:sf:user", self.tag)
    }

    /// The latest `Sforce-Limit-Info` usage seen by any replica: `{prefix}:sf:api-usage`.
    pub fn salesforce_api_usage(&self) -> String {
        format!("{}:sf:api-usage", self.tag)
    }

    /// An unfinished `workers backfill` run, to resume after an interruption:
    /// `{prefix}:backfill` (hash: `from`, `types`, `cursor` and the counts so far).
    pub fn backfill_run(&self) -> String {
        format!("{}:backfill", self.tag)
    }

    /// An unfinished `workers import`, to resume after an interruption: `{prefix}:import`
    /// (hash: per object kind its cursor, whether it is done, and its counts).
    pub fn import_run(&self) -> String {
        format!("{}:import", self.tag)
    }

    /// How far the automatic catch-up has listed Stripe's events:
    /// `{prefix}:catchup:watermark` (hash: `created`, `event_id`, `at`).
    pub fn catchup_watermark(&self) -> String {
        format!("{}:catchup:watermark", self.tag)
    }

    /// The lease of the one active catch-up replica: `{prefix}:catchup:lease` (its worker
    /// id, with a TTL the holder renews).
    pub fn catchup_lease(&self) -> String {
        format!("{}:catchup:lease", self.tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_carries_the_same_hash_tag() {
        let keys = KeySpace::new("fleet");
        for key in [
            keys.stream(Priority::High),
            keys.stream(Priority::Low),
            keys.dead_letters(),
            keys.seen("evt_1"),
            keys.lifecycle("evt_1"),
            keys.salesforce_token(),
            keys.salesforce_token_lock(),
            keys.applied("evt_1"),
            keys.record_version("stripe_customer__c/stripe_customer_id__c=cus_1"),
            keys.record_claim("stripe_customer__c/stripe_customer_id__c=cus_1"),
            keys.retry_schedule(),
            keys.retry_entry("evt_1"),
            keys.limiter(),
            keys.breaker(),
            keys.bulk_job("750x"),
            keys.known_record("Stripe_Customer__c", "cus_1"),
            keys.salesforce_api_usage(),
            keys.stream(Priority::Outbound),
            keys.outbound_lease("/data/ContactChangeEvent"),
            keys.outbound_replay("/data/ContactChangeEvent"),
            keys.outbound_customer("003000000000001AAA"),
            keys.backfill_run(),
            keys.import_run(),
            keys.catchup_watermark(),
            keys.catchup_lease(),
        ] {
            assert!(key.starts_with("{fleet}:"), "{key}");
        }
    }
}
