//! Redis key names of the whole fleet. One place, so that the README, redis-cli and the
//! code agree.
//!
//! Stripe events are spread over `PARTITIONS` partitions by what must stay ordered (the
//! records they write; see [`partition_key`]). Each partition has its own hash tag,
//! `{prefix:<n>}`, holding its streams, dead letters, event markers, record versions, record
//! claims and retry schedule: everything one ledger script touches, so every script stays in
//! one cluster slot while the partitions spread over the cluster's nodes. The fleet-wide keys
//! (limiter, breaker, token, usage, outbound, catch-up, membership) keep the tag `{prefix}`.
//! With one partition the partition's keys are the fleet-wide tag: the single-slot layout.

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

/// The default number of partitions (`PARTITIONS`).
pub const DEFAULT_PARTITIONS: u16 = 16;

/// Builds key names under one hash-tagged prefix, and the key spaces of its partitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySpace {
    prefix: String,
    tag: String,
    partitions: u16,
}

impl KeySpace {
    /// Keys under `{prefix}`, with one partition (everything in one slot). The prefix must
    /// not contain braces (it would break the tag).
    pub fn new(prefix: &str) -> Self {
        Self::partitioned(prefix, 1)
    }

    /// Keys under `{prefix}` with events spread over `partitions` partitions (at least one).
    pub fn partitioned(prefix: &str, partitions: u16) -> Self {
        Self {
            prefix: prefix.to_owned(),
            tag: format!("{{{prefix}}}"),
            partitions: partitions.max(1),
        }
    }

    /// How many partitions the fleet's events are spread over.
    pub fn partition_count(&self) -> u16 {
        self.partitions
    }

    /// The keys of partition `partition`: `{prefix:<partition>}:…`, or the fleet-wide keys
    /// when there is one partition. Only the per-partition keys (streams, dead letters,
    /// markers, lifecycle, record versions and claims, retries) are meant to be taken from
    /// it.
    pub fn partition(&self, partition: u16) -> KeySpace {
        if self.partitions == 1 {
            return self.clone();
        }
        Self {
            prefix: self.prefix.clone(),
            tag: format!("{{{}:{partition}}}", self.prefix),
            partitions: self.partitions,
        }
    }

    /// The key spaces that hold events, each with the partition that names it: the
    /// fleet-wide tag (`None`: outbound events, the bridge's refusals) and, when events are
    /// partitioned, every partition's. With one partition the two are the same tag, listed
    /// once.
    pub fn event_spaces(&self) -> Vec<(Option<u16>, KeySpace)> {
        let mut spaces = vec![(None, self.clone())];
        if self.partitions > 1 {
            spaces.extend(self.all_partitions().map(|(p, keys)| (Some(p), keys)));
        }
        spaces
    }

    /// Every partition's key space, in partition order.
    pub fn all_partitions(&self) -> impl Iterator<Item = (u16, KeySpace)> + '_ {
        (0..self.partitions).map(|p| (p, self.partition(p)))
    }

    /// The partition of an event whose ordering key is `key` (see [`partition_key`]): a
    /// stable hash (FNV-1a), so every process and every restart agrees.
    pub fn partition_of(&self, key: &str) -> u16 {
        let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        });
        (hash % u64::from(self.partitions)) as u16
    }

    /// The partition of the event with body `payload` and id `event_id`: by
    /// [`partition_key`] of the body, or the event id when the body is not JSON.
    pub fn partition_of_event(&self, payload: &str, event_id: &str) -> u16 {
        if self.partitions == 1 {
            return 0;
        }
        let key = serde_json::from_str::<serde_json::Value>(payload)
            .ok()
            .and_then(|payload| partition_key(&payload))
            .unwrap_or_else(|| event_id.to_owned());
        self.partition_of(&key)
    }

    /// The replicas of a consumer group sharing the partitions:
    /// `{prefix}:members:<group>`, a sorted set of worker ids scored by when their
    /// membership lapses (Unix ms).
    pub fn members(&self, group: &str) -> String {
        format!("{}:members:{group}", self.tag)
    }

    /// Whose turn it is to read the group's next batch, or the pause after one:
    /// `{prefix}:turn:<group>` (see [`crate::store::BatchPacer`]).
    pub fn batch_turn(&self, group: &str) -> String {
        format!("{}:turn:{group}", self.tag)
    }

    /// The Bulk job an event was put into: `{prefix}:bulkjob-of:<event id>` (fleet-wide, so
    /// a batch's notes are one pipeline).
    pub fn bulk_job_of(&self, event_id: &str) -> String {
        format!("{}:bulkjob-of:{event_id}", self.tag)
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

/// What must stay ordered for a Stripe event, from its JSON: the customer it belongs to
/// (`data.object.customer`, an id or an expanded object), else the product
/// (`data.object.product`, so a product and its prices stay together), else the object
/// itself (`data.object.id`), else the event id. Every record the default mapping writes
/// for an event belongs to that customer, product or object, so newest-wins per record
/// (whose keys live in the event's partition) sees every event that writes the record.
pub fn partition_key(payload: &serde_json::Value) -> Option<String> {
    let object = payload.pointer("/data/object")?;
    let id_of = |value: &serde_json::Value| match value {
        serde_json::Value::String(id) if !id.is_empty() => Some(id.clone()),
        serde_json::Value::Object(expanded) => expanded
            .get("id")
            .and_then(|id| id.as_str())
            .map(str::to_owned),
        _ => None,
    };
    ["customer", "product", "id"]
        .iter()
        .find_map(|field| object.get(*field).and_then(id_of))
        .or_else(|| payload.get("id").and_then(id_of))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_of_one_customer_share_a_partition() {
        let keys = KeySpace::partitioned("fleet", 16);
        let invoice = serde_json::json!({"id": "evt_1", "data": {"object": {"id": "in_1", "customer": "cus_9"}}});
        let customer = serde_json::json!({"id": "evt_2", "data": {"object": {"id": "cus_9"}}});
        let expanded = serde_json::json!({"id": "evt_3", "data": {"object": {"id": "pi_1", "customer": {"id": "cus_9"}}}});
        let price = serde_json::json!({"id": "evt_4", "data": {"object": {"id": "price_1", "product": "prod_1"}}});
        assert_eq!(partition_key(&invoice).as_deref(), Some("cus_9"));
        assert_eq!(partition_key(&customer).as_deref(), Some("cus_9"));
        assert_eq!(partition_key(&expanded).as_deref(), Some("cus_9"));
        assert_eq!(partition_key(&price).as_deref(), Some("prod_1"));
        let spread: std::collections::HashSet<u16> = (0..200)
            .map(|i| keys.partition_of(&format!("cus_{i}")))
            .collect();
        assert_eq!(spread.len(), 16, "200 customers land in every partition");
        assert!(spread.iter().all(|p| *p < 16));
    }

    #[test]
    fn partitions_have_their_own_tags_and_one_partition_is_the_fleet_tag() {
        let keys = KeySpace::partitioned("fleet", 16);
        assert_eq!(keys.partition(3).stream(Priority::High), "{fleet:3}:high");
        assert_eq!(keys.partition(3).limiter(), "{fleet:3}:limiter:calls");
        assert_eq!(keys.limiter(), "{fleet}:limiter:calls");
        assert_eq!(keys.event_spaces().len(), 17);
        assert_eq!(keys.event_spaces()[4], (Some(3), keys.partition(3)));
        let single = KeySpace::new("fleet");
        assert_eq!(single.event_spaces(), vec![(None, single.clone())]);
        assert_eq!(single.partition(0).stream(Priority::High), "{fleet}:high");
        assert_eq!(single.partition_of("cus_1"), 0);
    }

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
            keys.batch_turn(GROUP_REALTIME),
            keys.members(GROUP_BULK),
        ] {
            assert!(key.starts_with("{fleet}:"), "{key}");
        }
    }
}
