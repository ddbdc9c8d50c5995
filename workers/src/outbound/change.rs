//! One Salesforce change as the outbound stream carries it, and the pure decisions about it:
//! its event id (which orders changes of one record), whether it is the fleet's own echo,
//! and whether it can matter to Stripe at all.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::rules::{ObjectRule, OutboundRules};
use crate::store::StreamEntry;

/// What happened to the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChangeKind {
    /// Created: the event carries every non-null field.
    Create,
    /// Updated: the event carries the changed fields only.
    Update,
    /// Deleted: nothing to do in Stripe.
    Delete,
    /// Restored from the recycle bin: read the record.
    Undelete,
    /// Read from Salesforce by the fleet (catch-up after a refused replay id or a gap): the
    /// fields are the record's current values when `complete`, else none (read it).
    Sync,
}

/// A change of one record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// sObject API name.
    pub entity: String,
    /// The record's 18-character id.
    pub record_id: String,
    /// What happened.
    pub kind: ChangeKind,
    /// Commit time, Unix milliseconds.
    pub commit_timestamp: i64,
    /// The org's commit number (0 for a sync).
    pub commit_number: i64,
    /// Order in the transaction (0 for a sync).
    pub sequence_number: i64,
    /// Who committed it (empty for a sync).
    pub commit_user: String,
    /// Changed field names (UPDATE).
    #[serde(default)]
    pub changed_fields: Vec<String>,
    /// Field values: every non-null field when `complete`, else the changed ones.
    #[serde(default)]
    pub fields: Map<String, Value>,
    /// Whether `fields` is the record's whole state (a CREATE, or a sync read).
    pub complete: bool,
}

impl Change {
    /// The ledger's id of the change. Ids of one record sort in commit order (commit
    /// number, then sequence), and a sync (`sync-…`, the state read after them) sorts after
    /// changes (`chg-…`) of the same second, so newest-wins per record holds.
    pub fn event_id(&self) -> String {
        match self.kind {
            ChangeKind::Sync => format!("sync-{:015}-{}", self.commit_timestamp, self.record_id),
            _ => format!(
                "chg-{:015}-{:05}-{}",
                self.commit_number, self.sequence_number, self.record_id
            ),
        }
    }

    /// `Contact.CREATE`, `Stripe_Subscription__c.SYNC`, …: the entry's type.
    pub fn event_type(&self) -> String {
        let kind = serde_json::to_value(self.kind)
            .ok()
            .and_then(|kind| kind.as_str().map(str::to_owned))
            .unwrap_or_default();
        format!("{}.{kind}", self.entity)
    }

    /// The stream entry carrying this change (the payload is the change as JSON).
    pub fn to_entry(&self, received_at: i64) -> StreamEntry {
        StreamEntry {
            event_id: self.event_id(),
            event_type: self.event_type(),
            object_id: self.record_id.clone(),
            created: self.commit_timestamp.div_euclid(1000),
            attempts: 0,
            received_at,
            payload: serde_json::to_string(self).unwrap_or_default(),
        }
    }

    /// Reads the change back from an entry's payload.
    pub fn from_entry(entry: &StreamEntry) -> Result<Self, String> {
        serde_json::from_str(&entry.payload).map_err(|error| format!("not a change: {error}"))
    }

    /// A text field's value, when present and not empty.
    pub fn text(&self, field: &str) -> Option<&str> {
        self.fields
            .get(field)
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
    }
}

/// What the outbound worker does with a change before reading anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Triage {
    /// The fleet's own write coming back: nothing to do.
    Echo,
    /// Nothing Stripe cares about changed (or the record was deleted, or its object has no
    /// rule).
    Irrelevant,
    /// Acts on the values the change carries.
    Complete,
    /// Acts on the record as Salesforce has it now: read it first.
    Read,
}

/// Decides what a change needs. `fleet_user` is the id of the user the fleet writes as.
pub fn triage(change: &Change, rules: &OutboundRules, fleet_user: &str) -> Triage {
    let Some(rule) = rules.rule_for(&change.entity) else {
        return Triage::Irrelevant;
    };
    match change.kind {
        ChangeKind::Delete => Triage::Irrelevant,
        ChangeKind::Sync if change.complete => Triage::Complete,
        ChangeKind::Create if change.complete && rule.create_carries_state() => Triage::Complete,
        ChangeKind::Create | ChangeKind::Sync | ChangeKind::Undelete => Triage::Read,
        ChangeKind::Update => triage_update(change, &rule, fleet_user),
    }
}

fn triage_update(change: &Change, rule: &ObjectRule, fleet_user: &str) -> Triage {
    let by_fleet = !fleet_user.is_empty() && same_user(&change.commit_user, fleet_user);
    let mut triggers = change
        .changed_fields
        .iter()
        .filter(|field| rule.triggers(field));
    if by_fleet {
        // The fleet's own writes: only a trigger field the fleet never writes is work.
        if triggers.any(|field| !rule.written_by_fleet(field)) {
            Triage::Read
        } else {
            Triage::Echo
        }
    } else if triggers.next().is_some() {
        Triage::Read
    } else {
        Triage::Irrelevant
    }
}

/// Whether two user ids name one user: Salesforce ids compare on their first 15
/// characters (the 18-character form adds a case-safe suffix).
pub fn same_user(a: &str, b: &str) -> bool {
    a.get(..15).unwrap_or(a) == b.get(..15).unwrap_or(b)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const FLEET: &str = "005000000000001AAA";
    const PERSON: &str = "005000000000002AAA";

    fn update(entity: &str, user: &str, changed: &[&str]) -> Change {
        Change {
            entity: entity.into(),
            record_id: "003000000000001AAA".into(),
            kind: ChangeKind::Update,
            commit_timestamp: 1_700_000_000_123,
            commit_number: 42,
            sequence_number: 1,
            commit_user: user.into(),
            changed_fields: changed.iter().map(|f| f.to_string()).collect(),
            fields: Map::new(),
            complete: false,
        }
    }

    #[test]
    fn the_fleets_write_back_is_an_echo_and_a_persons_edit_is_work() {
        let rules = OutboundRules::default();
        let write_back = update(
            "Contact",
            FLEET,
            &["Stripe_Customer_ID__c", "LastModifiedDate"],
        );
        assert_eq!(triage(&write_back, &rules, FLEET), Triage::Echo);
        let edit = update("Contact", PERSON, &["Email", "LastModifiedDate"]);
        assert_eq!(triage(&edit, &rules, FLEET), Triage::Read);
        let title = update("Contact", PERSON, &["Title"]);
        assert_eq!(triage(&title, &rules, FLEET), Triage::Irrelevant);
        // Someone using the integration user by hand to change an e-mail is still work.
        let by_hand = update("Contact", FLEET, &["Email"]);
        assert_eq!(triage(&by_hand, &rules, FLEET), Triage::Read);
    }

    #[test]
    fn the_fleets_status_writes_on_subscriptions_are_echoes() {
        let rules = OutboundRules::default();
        let completed = update(
            "Stripe_Subscription__c",
            FLEET,
            &["Sync_Status__c", "Stripe_Subscription_ID__c"],
        );
        assert_eq!(triage(&completed, &rules, FLEET), Triage::Echo);
        let pending = update("Stripe_Subscription__c", PERSON, &["Sync_Status__c"]);
        assert_eq!(triage(&pending, &rules, FLEET), Triage::Read);
    }

    #[test]
    fn creates_carry_their_state_and_deletes_and_unknown_objects_need_nothing() {
        let rules = OutboundRules::default();
        let mut create = update("Contact", PERSON, &[]);
        create.kind = ChangeKind::Create;
        create.complete = true;
        create.fields = json!({"Email": "a@example.com"})
            .as_object()
            .cloned()
            .unwrap();
        assert_eq!(triage(&create, &rules, FLEET), Triage::Complete);
        create.kind = ChangeKind::Delete;
        assert_eq!(triage(&create, &rules, FLEET), Triage::Irrelevant);
        let account = update("Account", PERSON, &["Name"]);
        assert_eq!(triage(&account, &rules, FLEET), Triage::Irrelevant);
    }

    #[test]
    fn event_ids_sort_in_commit_order_and_syncs_after_changes() {
        let mut first = update("Contact", PERSON, &["Email"]);
        let mut second = first.clone();
        second.commit_number = 43;
        assert!(first.event_id() < second.event_id());
        first.commit_number = 9;
        second.commit_number = 10;
        assert!(first.event_id() < second.event_id(), "zero-padded");
        let mut sync = first.clone();
        sync.kind = ChangeKind::Sync;
        assert!(sync.event_id() > second.event_id());
        let entry = first.to_entry(5);
        assert_eq!(entry.created, 1_700_000_000);
        assert_eq!(entry.event_type, "Contact.UPDATE");
        assert_eq!(Change::from_entry(&entry).unwrap(), first);
    }
}
