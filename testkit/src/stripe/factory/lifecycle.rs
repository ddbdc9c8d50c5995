//! One event of every customer-related type the fleet handles, about one customer: the
//! fixture for tests that must cover the mapping of a customer's life. (The catalogue
//! events, `price.*` and `product.updated`, are about no customer: see `catalog`.)

use serde_json::json;

use super::{sample_amount, EventFactory, StripeEvent};

impl EventFactory {
    /// One event of each customer-related type the fleet handles, about one customer, in
    /// `currency`, all created at `created`. The order is the natural one; tests shuffle it
    /// when they want.
    pub fn lifecycle(&self, currency: &str, created: i64) -> Vec<StripeEvent> {
        let amount = sample_amount(currency, 1);
        let customer = self.customer(created);
        let customer_id = customer["id"].as_str().unwrap_or_default().to_owned();
        let mut updated_customer = customer.clone();
        updated_customer["email"] = json!("jenny.new@example.com");
        let subscription = self.subscription(&customer_id, "active", amount, currency, created);
        let subscription_id = subscription["id"].as_str().unwrap_or_default().to_owned();
        let mut past_due = subscription.clone();
        past_due["status"] = json!("past_due");
        let mut canceled = subscription.clone();
        canceled["status"] = json!("canceled");
        vec![
            self.event("customer.created", customer.clone(), None, created),
            self.event(
                "customer.updated",
                updated_customer,
                Some(json!({ "email": customer["email"] })),
                created,
            ),
            self.event(
                "customer.subscription.created",
                subscription.clone(),
                None,
                created,
            ),
            self.event(
                "checkout.session.completed",
                self.checkout_session(
                    &customer_id,
                    &subscription_id,
                    amount,
                    currency,
                    created,
                    None,
                ),
                None,
                created,
            ),
            self.event(
                "customer.subscription.updated",
                past_due,
                Some(json!({ "status": "active" })),
                created,
            ),
            self.event(
                "payment_intent.succeeded",
                self.payment_intent(&customer_id, amount, currency, created, None),
                None,
                created,
            ),
            self.event(
                "payment_intent.payment_failed",
                self.payment_intent(
                    &customer_id,
                    amount,
                    currency,
                    created,
                    Some("insufficient_funds"),
                ),
                None,
                created,
            ),
            self.event(
                "invoice.payment_succeeded",
                self.invoice(
                    &customer_id,
                    &subscription_id,
                    amount,
                    currency,
                    created,
                    true,
                ),
                None,
                created,
            ),
            self.event(
                "invoice.payment_failed",
                self.invoice(
                    &customer_id,
                    &subscription_id,
                    amount,
                    currency,
                    created,
                    false,
                ),
                None,
                created,
            ),
            self.event("customer.subscription.deleted", canceled, None, created),
            self.event("customer.deleted", customer, None, created),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_covers_every_handled_type_with_unique_ids() {
        let factory = EventFactory::new();
        let events = factory.lifecycle("jpy", 1_786_000_000);
        let types: std::collections::HashSet<_> =
            events.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(types.len(), 11);
        let ids: std::collections::HashSet<_> = events.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids.len(), events.len());
        for event in &events {
            let envelope = common::stripe::EventEnvelope::parse(event.body().as_bytes()).unwrap();
            assert_eq!(envelope.id, event.id);
            assert_eq!(envelope.object_id, event.object_id);
        }
    }
}
