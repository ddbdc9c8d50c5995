//! Which priority stream an event goes to: rules as data (`ROUTING_FILE`, TOML), with the
//! built-in default in `workers/routing.default.toml`.

use serde::Deserialize;

use crate::store::Priority;

/// The built-in routing rules.
pub const DEFAULT_ROUTING: &str = include_str!("../../routing.default.toml");

/// One rule: event types, an optional "these fields changed" condition, and the stream.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingRule {
    /// Event types the rule applies to.
    pub types: Vec<String>,
    /// If set, the rule applies only when `data.previous_attributes` has one of these keys.
    #[serde(default)]
    pub changed: Vec<String>,
    /// Where matching events go.
    pub stream: Priority,
}

/// Ordered rules plus the stream for types no rule names.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingRules {
    /// Stream for events no rule matches.
    pub default: Priority,
    /// Tried in order; the first match decides.
    #[serde(default, rename = "rule")]
    pub rules: Vec<RoutingRule>,
}

/// A routing file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid routing rules: {0}")]
pub struct RoutingError(String);

impl RoutingRules {
    /// Parses rules from TOML.
    pub fn from_toml(text: &str) -> Result<Self, RoutingError> {
        let rules: RoutingRules = toml::from_str(text).map_err(|e| RoutingError(e.to_string()))?;
        if let Some(empty) = rules.rules.iter().position(|r| r.types.is_empty()) {
            return Err(RoutingError(format!(
                "rule #{} names no event types",
                empty + 1
            )));
        }
        Ok(rules)
    }

    /// The built-in default.
    pub fn builtin() -> Self {
        Self::from_toml(DEFAULT_ROUTING).expect("the built-in routing rules parse")
    }

    /// The stream for an event of `event_type` whose update changed `changed_fields`
    /// (the keys of `data.previous_attributes`; empty for non-update events).
    pub fn route(&self, event_type: &str, changed_fields: &[&str]) -> Priority {
        self.rules
            .iter()
            .find(|rule| {
                rule.types.iter().any(|t| t == event_type)
                    && (rule.changed.is_empty()
                        || changed_fields
                            .iter()
                            .any(|field| rule.changed.iter().any(|c| c == field)))
            })
            .map_or(self.default, |rule| rule.stream)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_rules_follow_the_documented_priorities() {
        let rules = RoutingRules::builtin();
        let high = [
            "payment_intent.payment_failed",
            "invoice.payment_failed",
            "customer.subscription.deleted",
            "checkout.session.completed",
            "payment_intent.succeeded",
            "invoice.payment_succeeded",
            "customer.subscription.created",
        ];
        for event_type in high {
            assert_eq!(rules.route(event_type, &[]), Priority::High, "{event_type}");
        }
        for event_type in [
            "customer.created",
            "customer.updated",
            "customer.deleted",
            "price.created",
            "price.updated",
            "product.updated",
            "charge.refunded",
        ] {
            assert_eq!(rules.route(event_type, &[]), Priority::Low, "{event_type}");
        }
        assert_eq!(
            rules.route("customer.subscription.updated", &["status", "items"]),
            Priority::High
        );
        assert_eq!(
            rules.route("customer.subscription.updated", &["metadata"]),
            Priority::Low
        );
        assert_eq!(
            rules.route("customer.subscription.updated", &[]),
            Priority::Low
        );
    }

    #[test]
    fn custom_rules_and_default_are_data() {
        let rules = RoutingRules::from_toml(
            "default = \"high\"\n[[rule]]\ntypes = [\"customer.updated\"]\nstream = \"low\"\n",
        )
        .unwrap();
        assert_eq!(rules.route("customer.updated", &[]), Priority::Low);
        assert_eq!(rules.route("anything.else", &[]), Priority::High);
    }

    #[test]
    fn bad_files_are_refused_with_a_reason() {
        let error = RoutingRules::from_toml("default = \"medium\"").unwrap_err();
        assert!(error.to_string().contains("medium"), "{error}");
        assert!(RoutingRules::from_toml(
            "default = \"low\"\n[[rule]]\ntypes = []\nstream = \"high\""
        )
        .is_err());
    }
}
