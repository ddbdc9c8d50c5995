//! The mapping file as written: plain serde structs mirroring the TOML, nothing validated yet.
//!
//! `deny_unknown_fields` everywhere turns a typo (`fallback_path`) into a load error instead
//! of a silently ignored setting. `docs/mapping.md` documents every key.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMapping {
    /// Format version; only 1 exists.
    pub version: Option<i64>,
    /// Overrides of Stripe's currency exponents, lower-case ISO code → decimals.
    #[serde(default)]
    pub currency_exponents: BTreeMap<String, u32>,
    /// `[fence]`: the fields every main write stamps with its event's time and id.
    pub fence: Option<RawFence>,
    /// `[[rule]]` tables.
    #[serde(default, rename = "rule")]
    pub rules: Vec<RawRule>,
}

/// `[fence]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFence {
    /// DateTime field: the event's `created`.
    pub event_time_field: String,
    /// Text field: the event's id.
    pub event_id_field: String,
}

/// `[[rule]]`: what a set of event types writes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    /// Event types handled by this rule.
    #[serde(default)]
    pub events: Vec<String>,
    /// Free text for readers of the file.
    #[expect(
        dead_code,
        reason = "accepted so that files may document their rules; never read"
    )]
    pub description: Option<String>,
    /// `[[rule.write]]` tables, in write order.
    #[serde(default, rename = "write")]
    pub writes: Vec<RawWrite>,
}

/// `[[rule.write]]`: one record write.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWrite {
    /// sObject API name.
    pub sobject: String,
    /// `main` (default) or `parent_stub`.
    pub role: Option<String>,
    /// The part of the record this write owns (newest wins per record and aspect).
    pub aspect: Option<String>,
    /// Skip this write (instead of failing) when its target has no value in the event.
    #[serde(default)]
    pub optional: bool,
    /// Free text for readers of the file.
    #[expect(
        dead_code,
        reason = "accepted so that files may document their writes; never read"
    )]
    pub description: Option<String>,
    /// `[rule.write.target]`.
    pub target: Option<RawTarget>,
    /// `[rule.write.fields]`: Salesforce field API name → how to fill it.
    #[serde(default)]
    pub fields: BTreeMap<String, RawField>,
    /// Path of a list: one record per element (`$item`, `$previous`, `$number` in paths).
    pub for_each: Option<String>,
    /// With `for_each`: delete the parent's records the list no longer has.
    pub delete_missing: Option<RawDeleteMissing>,
}

/// `delete_missing = { field = "Parent__r.Key__c", path = "data.object.id" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDeleteMissing {
    /// The field of the written sObject naming the parent (`Rel__r.Field__c` allowed).
    pub field: String,
    /// Where the parent's value is.
    pub path: String,
    /// Further paths tried in order when `path` has no value.
    #[serde(default)]
    pub fallback_paths: Vec<String>,
}

/// `[rule.write.target]` (and its nested `otherwise`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTarget {
    /// Upsert by this external id field.
    pub external_id: Option<String>,
    /// Find the record by SOQL on this field.
    pub query: Option<String>,
    /// Update every record whose field has the value.
    pub query_all: Option<String>,
    /// `true`: the path holds a Salesforce record id.
    pub salesforce_id: Option<bool>,
    /// Where the key value is.
    pub path: Option<String>,
    /// Further paths tried in order when `path` has no value.
    #[serde(default)]
    pub fallback_paths: Vec<String>,
    /// The key as text with `{path}` placeholders, instead of `path`.
    pub template: Option<String>,
    /// What to use when this target has no usable value (or, for `query`, finds nothing).
    pub otherwise: Option<Box<RawTarget>>,
}

/// One field mapping: `Field__c = { path = "...", transform = "...", ... }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawField {
    /// Where the value is.
    pub path: Option<String>,
    /// Further paths tried in order when `path` has no value.
    #[serde(default)]
    pub fallback_paths: Vec<String>,
    /// A fixed value instead of a path.
    pub constant: Option<toml::Value>,
    /// Text with `{path}` placeholders instead of a path.
    pub template: Option<String>,
    /// Written as given when the value is absent or null.
    pub default: Option<toml::Value>,
    /// Transform name.
    pub transform: Option<String>,
    /// Path of the lower-case currency code, required by `money`.
    pub currency_path: Option<String>,
    /// Integer path whose value multiplies the amount (`money`, `number`).
    pub multiply_path: Option<String>,
    /// An integer added after the `number` transform.
    pub add: Option<i64>,
    /// Maps the converted value (as text) to the value written, e.g. picklist labels.
    pub value_map: Option<BTreeMap<String, toml::Value>>,
    /// Truncate longer text to this many characters.
    pub max_length: Option<usize>,
    /// Write the value as a lookup through the parent's external id.
    pub lookup: Option<RawLookup>,
    /// Missing value: omit the field (null: clear it) instead of failing the event.
    #[serde(default)]
    pub optional: bool,
}

/// `lookup = { relationship = "Stripe_Customer__r", external_id_field = "Stripe_Customer_ID__c" }`,
/// or `lookup = { sobject = "Contact", external_id_field = "...", only_if_exists = true }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLookup {
    /// Relationship name; defaults to the field name with `__c` replaced by `__r`.
    pub relationship: Option<String>,
    /// The parent's external id field.
    pub external_id_field: String,
    /// With `only_if_exists`: the parent's sObject, queried for its record id.
    pub sobject: Option<String>,
    /// Set the lookup only when a parent with the value exists; otherwise leave it out.
    #[serde(default)]
    pub only_if_exists: bool,
}
