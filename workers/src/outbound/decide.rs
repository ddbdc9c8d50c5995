//! What a change asks of Stripe, decided from the record's state (the change's own values,
//! or the record as read from Salesforce). Pure, so every rule is tested without I/O.

use serde_json::{Map, Value};

use super::{
    change::{Change, ChangeKind},
    rules::OutboundRules,
    stripe_side::ContactData,
};

/// One action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing to do in Stripe.
    Nothing,
    /// Make (or find) the Contact's customer, then write its id back.
    CreateCustomer {
        /// The Contact.
        contact_id: String,
        /// Its data.
        data: ContactData,
    },
    /// Set the customer's data to the Contact's.
    UpdateCustomer {
        /// `cus_…`.
        customer_id: String,
        /// The Contact's data.
        data: ContactData,
    },
    /// Open a Checkout session for a pending subscription record.
    Checkout {
        /// The record.
        record_id: String,
        /// `cus_…`, if the record names a customer that has one.
        customer_id: Option<String>,
        /// `price_…`, if the record (or its plan) has one.
        price_id: Option<String>,
    },
}

/// The action for `change`, given the record's `state` (its fields, including a parent's
/// as a nested object, as SOQL returns them).
pub fn decide(change: &Change, state: &Map<String, Value>, rules: &OutboundRules) -> Action {
    let text = |path: &str| text_at(state, path);
    if change.entity.eq_ignore_ascii_case(&rules.contacts.sobject) {
        let c = &rules.contacts;
        let Some(email) = text(&c.email_field) else {
            return Action::Nothing;
        };
        let name = [text(&c.first_name_field), text(&c.last_name_field)]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let data = ContactData {
            email,
            name: Some(name).filter(|name| !name.is_empty()),
            phone: text(&c.phone_field),
        };
        return match text(&c.stripe_id_field) {
            None => Action::CreateCustomer {
                contact_id: change.record_id.clone(),
                data,
            },
            // A Contact created or imported with its customer id already: nothing to sync.
            Some(_) if change.kind == ChangeKind::Create => Action::Nothing,
            Some(customer_id) => Action::UpdateCustomer { customer_id, data },
        };
    }
    let s = &rules.subscriptions;
    if change.entity.eq_ignore_ascii_case(&s.sobject) {
        let pending = text(&s.status_field).is_some_and(|status| status == s.pending);
        if !pending || text(&s.session_id_field).is_some() {
            return Action::Nothing;
        }
        return Action::Checkout {
            record_id: change.record_id.clone(),
            customer_id: text(&s.customer_path),
            price_id: text(&s.price_field),
        };
    }
    Action::Nothing
}

/// A non-empty text at `path` (`Field` or `Parent__r.Field`).
pub fn text_at(state: &Map<String, Value>, path: &str) -> Option<String> {
    let mut parts = path.split('.');
    let first = parts.next()?;
    let mut value = state.get(first)?;
    for part in parts {
        value = value.get(part)?;
    }
    value
        .as_str()
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn change(entity: &str, kind: ChangeKind) -> Change {
        Change {
            entity: entity.into(),
            record_id: "003A".into(),
            kind,
            commit_timestamp: 1,
            commit_number: 1,
            sequence_number: 1,
            commit_user: String::new(),
            changed_fields: vec![],
            fields: Map::new(),
            complete: true,
        }
    }

    fn state(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn a_contact_with_an_email_and_no_customer_gets_one() {
        let rules = OutboundRules::default();
        let action = decide(
            &change("Contact", ChangeKind::Create),
            &state(json!({"Email": "a@example.com", "FirstName": "Ada", "LastName": "Lovelace"})),
            &rules,
        );
        assert_eq!(
            action,
            Action::CreateCustomer {
                contact_id: "003A".into(),
                data: ContactData {
                    email: "a@example.com".into(),
                    name: Some("Ada Lovelace".into()),
                    phone: None,
                },
            }
        );
        let none = decide(
            &change("Contact", ChangeKind::Create),
            &state(json!({"LastName": "NoMail"})),
            &rules,
        );
        assert_eq!(none, Action::Nothing);
    }

    #[test]
    fn a_contact_with_a_customer_is_updated_on_change_but_not_on_create() {
        let rules = OutboundRules::default();
        let known = state(json!({"Email": "b@example.com", "Stripe_Customer_ID__c": "cus_1"}));
        assert!(matches!(
            decide(&change("Contact", ChangeKind::Update), &known, &rules),
            Action::UpdateCustomer { customer_id, .. } if customer_id == "cus_1"
        ));
        assert_eq!(
            decide(&change("Contact", ChangeKind::Create), &known, &rules),
            Action::Nothing
        );
    }

    #[test]
    fn a_pending_subscription_without_a_session_opens_one() {
        let rules = OutboundRules::default();
        let pending = state(json!({
            "Sync_Status__c": "Pending",
            "Stripe_Price_ID__c": "price_1",
            "Stripe_Customer__r": {"Stripe_Customer_ID__c": "cus_9"}
        }));
        assert_eq!(
            decide(
                &change("Stripe_Subscription__c", ChangeKind::Update),
                &pending,
                &rules
            ),
            Action::Checkout {
                record_id: "003A".into(),
                customer_id: Some("cus_9".into()),
                price_id: Some("price_1".into()),
            }
        );
        let mut opened = pending.clone();
        opened.insert("Stripe_Checkout_Session_ID__c".into(), json!("cs_1"));
        assert_eq!(
            decide(
                &change("Stripe_Subscription__c", ChangeKind::Update),
                &opened,
                &rules
            ),
            Action::Nothing
        );
        let mut done = pending;
        done.insert("Sync_Status__c".into(), json!("Completed"));
        assert_eq!(
            decide(
                &change("Stripe_Subscription__c", ChangeKind::Sync),
                &done,
                &rules
            ),
            Action::Nothing
        );
    }
}
