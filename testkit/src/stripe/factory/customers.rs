//! Customer and Subscription objects as Stripe shapes them (basil-era layout: the billing
//! period lives on the subscription's items).

use serde_json::{json, Value};

use super::EventFactory;

impl EventFactory {
    /// A Customer object with a name, e-mail and phone (personal data the fleet must not log).
    pub fn customer(&self, created: i64) -> Value {
        let id = self.id("cus");
        let n = &id[id.len() - 4..];
        json!({
            "id": id,
            "object": "customer",
            "address": { "city": "Zürich", "country": "CH", "line1": "Bahnhofstrasse 1", "line2": null, "postal_code": "8001", "state": null },
            "balance": 0,
            "created": created,
            "currency": "usd",
            "default_source": null,
            "delinquent": false,
            "description": "Customer, \"VIP\"\nsecond line",
            "email": format!("jenny.rosen{n}@example.com"),
            "invoice_prefix": "7D8C6B1A",
            "invoice_settings": { "custom_fields": null, "default_payment_method": null, "footer": null, "rendering_options": null },
            "livemode": self.livemode,
            "metadata": { "crm_segment": "enterprise" },
            "name": format!("Jenny Rosén {n}"),
            "phone": "+41 44 668 18 00",
            "preferred_locales": ["de-CH"],
            "shipping": null,
            "tax_exempt": "none",
            "test_clock": null
        })
    }

    /// A Subscription of `customer_id` in `status` with one item of `amount` minor units.
    pub fn subscription(
        &self,
        customer_id: &str,
        status: &str,
        amount: i64,
        currency: &str,
        created: i64,
    ) -> Value {
        let id = self.id("sub");
        let period_end = created + 30 * 86_400;
        json!({
            "id": id,
            "object": "subscription",
            "billing_cycle_anchor": created,
            "billing_mode": { "type": "flexible" },
            "cancel_at": null,
            "cancel_at_period_end": false,
            "canceled_at": if status == "canceled" { json!(created) } else { Value::Null },
            "collection_method": "charge_automatically",
            "created": created,
            "currency": currency,
            "customer": customer_id,
            "default_payment_method": self.id("pm"),
            "ended_at": if status == "canceled" { json!(created) } else { Value::Null },
            "items": {
                "object": "list",
                "data": [{
                    "id": self.id("si"),
                    "object": "subscription_item",
                    "created": created,
                    "current_period_start": created,
                    "current_period_end": period_end,
                    "metadata": {},
                    "price": {
                        "id": self.id("price"),
                        "object": "price",
                        "active": true,
                        "currency": currency,
                        "product": self.id("prod"),
                        "recurring": { "interval": "month", "interval_count": 1, "usage_type": "licensed" },
                        "type": "recurring",
                        "unit_amount": amount,
                        "unit_amount_decimal": amount.to_string()
                    },
                    "quantity": 1,
                    "subscription": id
                }],
                "has_more": false,
                "total_count": 1,
                "url": format!("/v1/subscription_items?subscription={id}")
            },
            "latest_invoice": self.id("in"),
            "livemode": self.livemode,
            "metadata": {},
            "start_date": created,
            "status": status,
            "trial_end": null,
            "trial_start": null
        })
    }
}
