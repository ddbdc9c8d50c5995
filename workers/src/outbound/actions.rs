//! One action's Stripe calls and the Salesforce write-backs they ask for; Stripe's failures
//! as the ledger records them, and a refusal as a Salesforce user reads it.

use serde_json::{json, Map, Value};
use stripe_client::StripeError;

use super::{
    decide::Action,
    rules::OutboundRules,
    stripe_side::{CheckoutRequest, CheckoutUrls, OutboundError, StripeSide},
};
use crate::store::Failure;
use salesforce_client::FailureClass;

/// Longest text written to `Error_Message__c` (a 255-character field).
const ERROR_TEXT_LIMIT: usize = 255;

/// A Salesforce write a change's Stripe call asks for.
pub enum WriteBack {
    /// Update a record by id.
    Update {
        /// Its sObject.
        sobject: String,
        /// Its id.
        id: String,
        /// The fields to set.
        fields: Map<String, Value>,
    },
    /// Upsert the customer record linked to the Contact.
    LinkCustomer {
        /// `cus_…`.
        customer_id: String,
        /// The Contact.
        contact_id: String,
    },
}

/// Runs one action's Stripe calls; answers the write-backs it asks for.
pub async fn call(
    stripe: &StripeSide,
    rules: &OutboundRules,
    urls: &CheckoutUrls,
    action: Action,
    cause: &str,
) -> Result<Vec<WriteBack>, Failure> {
    match action {
        Action::Nothing => Ok(Vec::new()),
        Action::CreateCustomer { contact_id, data } => {
            let customer_id = stripe
                .ensure_customer(&contact_id, &data, cause)
                .await
                .map_err(|e| failure_of(&e))?;
            let mut fields = Map::new();
            fields.insert(rules.contacts.stripe_id_field.clone(), json!(customer_id));
            Ok(vec![
                WriteBack::Update {
                    sobject: rules.contacts.sobject.clone(),
                    id: contact_id.clone(),
                    fields,
                },
                WriteBack::LinkCustomer {
                    customer_id,
                    contact_id,
                },
            ])
        }
        Action::UpdateCustomer { customer_id, data } => {
            stripe
                .update_customer(&customer_id, &data, cause)
                .await
                .map_err(|e| failure_of(&e))?;
            Ok(Vec::new())
        }
        Action::Checkout {
            record_id,
            customer_id,
            price_id,
        } => {
            let s = &rules.subscriptions;
            let status = |status: &str, error: &str, extra: &[(&str, Value)]| {
                let mut fields = Map::new();
                fields.insert(s.status_field.clone(), json!(status));
                fields.insert(s.error_field.clone(), json!(truncate(error)));
                for (name, value) in extra {
                    fields.insert((*name).to_owned(), value.clone());
                }
                vec![WriteBack::Update {
                    sobject: s.sobject.clone(),
                    id: record_id.clone(),
                    fields,
                }]
            };
            let (Some(customer_id), Some(price_id)) = (customer_id, price_id) else {
                return Ok(status(
                    &s.failed,
                    "The record needs a Stripe customer and a Stripe price before a Checkout session can be opened.",
                    &[],
                ));
            };
            let request = CheckoutRequest {
                record_id: record_id.clone(),
                customer_id,
                price_id,
                cause: cause.to_owned(),
            };
            match stripe.open_checkout(&request, urls).await {
                Ok((session_id, url)) => Ok(status(
                    &s.checkout_created,
                    "",
                    &[
                        (s.session_id_field.as_str(), json!(session_id)),
                        (s.url_field.as_str(), json!(url.unwrap_or_default())),
                    ],
                )),
                // Stripe refused the request itself: the record says why.
                Err(error) if error.class() == stripe_client::FailureClass::Permanent => {
                    Ok(status(&s.failed, &refusal_text(&error), &[]))
                }
                Err(error) => Err(failure_of(&OutboundError::Stripe(error))),
            }
        }
    }
}

/// A Stripe refusal as users read it in Salesforce: code and message, no request data.
fn refusal_text(error: &StripeError) -> String {
    match error {
        StripeError::Api { error, status, .. } => format!(
            "Stripe refused the Checkout session ({status} {}): {}",
            error.code.as_deref().unwrap_or(&error.kind),
            salesforce_client::redact::redact_values(error.message.as_deref().unwrap_or(""))
        ),
        other => other.to_string(),
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(ERROR_TEXT_LIMIT).collect()
}

/// The ledger's failure for an outbound error.
pub fn failure_of(error: &OutboundError) -> Failure {
    match error {
        OutboundError::Stripe(error) => {
            let class = match error.class() {
                stripe_client::FailureClass::Retryable => FailureClass::Retryable,
                stripe_client::FailureClass::RateLimited => FailureClass::RateLimited,
                stripe_client::FailureClass::Auth => FailureClass::Auth,
                stripe_client::FailureClass::Permanent => FailureClass::Permanent,
            };
            let code = match error {
                StripeError::Api { error, .. } => {
                    error.code.clone().unwrap_or_else(|| error.kind.clone())
                }
                StripeError::Transport(_) => "STRIPE_UNREACHABLE".to_owned(),
                _ => "STRIPE_ERROR".to_owned(),
            };
            let mut failure = Failure::new(class, &code, error.to_string());
            if let StripeError::Api { error, .. } = error {
                failure.detail = error.message.clone();
            }
            failure
        }
        OutboundError::Redis(error) => {
            Failure::new(FailureClass::Retryable, "REDIS_ERROR", error.to_string())
        }
    }
}
