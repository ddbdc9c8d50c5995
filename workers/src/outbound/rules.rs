//! What triggers what, as data: which Salesforce fields make a Stripe customer, which
//! record asks for a Checkout session, and which fields the fleet writes back. The built-in
//! default is seed 002's data model (the SFDX project in `salesforce/`); an org with other
//! field names sets `OUTBOUND_RULES_FILE` to a TOML file with the same keys
//! (`workers/outbound.default.toml` shows them all).

use std::path::Path;

use serde::Deserialize;

/// The built-in rules, as shipped in `workers/outbound.default.toml`.
const DEFAULT_RULES: &str = include_str!("../../outbound.default.toml");

/// Both outbound flows.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundRules {
    /// Contacts → Stripe customers.
    pub contacts: ContactRule,
    /// Pending subscription records → Checkout sessions.
    pub subscriptions: SubscriptionRule,
}

/// Contacts → Stripe customers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactRule {
    /// The sObject (`Contact`).
    pub sobject: String,
    /// Where the customer id is written back (`Stripe_Customer_ID__c`).
    pub stripe_id_field: String,
    /// The e-mail field: a Contact without one gets no customer.
    pub email_field: String,
    /// First name.
    pub first_name_field: String,
    /// Last name.
    pub last_name_field: String,
    /// Phone.
    pub phone_field: String,
    /// The record linking the customer to the Contact, upserted with the write-back.
    pub customer_record: CustomerRecord,
}

/// The `Stripe_Customer__c` upserted for a new customer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerRecord {
    /// The sObject.
    pub sobject: String,
    /// Its external id field, set to the customer id.
    pub external_id_field: String,
    /// Its lookup to the Contact.
    pub contact_field: String,
}

/// Pending subscription records → Checkout sessions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionRule {
    /// The sObject (`Stripe_Subscription__c`).
    pub sobject: String,
    /// The status field (`Sync_Status__c`).
    pub status_field: String,
    /// The status that asks for a session (`Pending`).
    pub pending: String,
    /// The status written with the session (`Checkout Created`).
    pub checkout_created: String,
    /// The status written when Stripe refuses (`Failed`).
    pub failed: String,
    /// Where the refusal's reason goes (`Error_Message__c`).
    pub error_field: String,
    /// Where the session id goes (`Stripe_Checkout_Session_ID__c`).
    pub session_id_field: String,
    /// Where the payment page's URL goes (`Checkout_URL__c`).
    pub url_field: String,
    /// The Stripe price on the record itself (`Stripe_Price_ID__c`).
    pub price_field: String,
    /// The customer id, as a SOQL path from the record
    /// (`Stripe_Customer__r.Stripe_Customer_ID__c`).
    pub customer_path: String,
    /// Where the price comes from when the record has none: a plan record pointing at it.
    pub plan: PlanLookup,
}

/// A `Pricing_Plan__c` that names a subscription record and carries its price.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanLookup {
    /// The sObject.
    pub sobject: String,
    /// Its lookup to the subscription record.
    pub subscription_field: String,
    /// Its Stripe price id.
    pub price_field: String,
}

/// What triage needs to know of one object.
#[derive(Debug, Clone)]
pub struct ObjectRule {
    triggers: Vec<String>,
    fleet_fields: Vec<String>,
    create_carries_state: bool,
}

impl ObjectRule {
    /// Whether a change of `field` can make Stripe work.
    pub fn triggers(&self, field: &str) -> bool {
        self.triggers.iter().any(|f| f.eq_ignore_ascii_case(field))
    }

    /// Whether a CREATE event holds everything the decision needs (a subscription record
    /// needs its customer's id, a parent field the event does not carry).
    pub fn create_carries_state(&self) -> bool {
        self.create_carries_state
    }

    /// Whether the fleet itself writes `field` (so the fleet's change of it is an echo).
    pub fn written_by_fleet(&self, field: &str) -> bool {
        self.fleet_fields
            .iter()
            .any(|f| f.eq_ignore_ascii_case(field))
    }
}

impl Default for OutboundRules {
    fn default() -> Self {
        // The shipped file is parsed by a unit test: it cannot fail here.
        #[allow(clippy::expect_used)]
        toml::from_str(DEFAULT_RULES).expect("the built-in outbound rules parse")
    }
}

impl OutboundRules {
    /// The rules in `path`, or the built-in ones.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(path)
            .map_err(|error| anyhow::anyhow!("OUTBOUND_RULES_FILE {}: {error}", path.display()))?;
        toml::from_str(&text)
            .map_err(|error| anyhow::anyhow!("OUTBOUND_RULES_FILE {}: {error}", path.display()))
    }

    /// The triage rule of `entity`, if changes of it are outbound work.
    pub fn rule_for(&self, entity: &str) -> Option<ObjectRule> {
        let contacts = &self.contacts;
        let subscriptions = &self.subscriptions;
        if entity.eq_ignore_ascii_case(&contacts.sobject) {
            Some(ObjectRule {
                triggers: vec![
                    contacts.email_field.clone(),
                    contacts.first_name_field.clone(),
                    contacts.last_name_field.clone(),
                    contacts.phone_field.clone(),
                ],
                fleet_fields: vec![contacts.stripe_id_field.clone()],
                create_carries_state: true,
            })
        } else if entity.eq_ignore_ascii_case(&subscriptions.sobject) {
            Some(ObjectRule {
                triggers: vec![
                    subscriptions.status_field.clone(),
                    subscriptions.price_field.clone(),
                ],
                fleet_fields: vec![
                    subscriptions.status_field.clone(),
                    subscriptions.error_field.clone(),
                    subscriptions.session_id_field.clone(),
                    subscriptions.url_field.clone(),
                ],
                create_carries_state: false,
            })
        } else {
            None
        }
    }

    /// The fields read from a Contact (SOQL select list).
    pub fn contact_fields(&self) -> Vec<&str> {
        let c = &self.contacts;
        vec![
            "Id",
            &c.email_field,
            &c.first_name_field,
            &c.last_name_field,
            &c.phone_field,
            &c.stripe_id_field,
        ]
    }

    /// The fields read from a subscription record (SOQL select list).
    pub fn subscription_fields(&self) -> Vec<&str> {
        let s = &self.subscriptions;
        vec![
            "Id",
            &s.status_field,
            &s.price_field,
            &s.session_id_field,
            &s.customer_path,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_rules_parse_and_name_seed_002s_fields() {
        let rules = OutboundRules::default();
        assert_eq!(rules.contacts.stripe_id_field, "Stripe_Customer_ID__c");
        assert_eq!(rules.subscriptions.pending, "Pending");
        assert!(rules.rule_for("contact").is_some());
        assert!(rules.rule_for("Account").is_none());
    }

    #[test]
    fn an_unknown_key_is_refused() {
        let text = DEFAULT_RULES.replace("[contacts]", "[contacts]\nemial_field = \"x\"");
        assert!(toml::from_str::<OutboundRules>(&text).is_err());
    }
}
