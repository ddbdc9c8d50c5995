//! The catalogue: Products and Prices as Stripe shapes them, and their events.
//!
//! A Price's `tiers` is *includable*: Stripe leaves it out unless the request expanded it,
//! and webhooks expand nothing, so a real `price.*` webhook of a tiered price has no `tiers`
//! key. [`EventFactory::price`] adds `tiers` only when given some, to stand for a payload
//! fetched with `expand[]=tiers`. In responses the last tier's `up_to` is `null` (it is
//! created as `"inf"`).

use serde_json::{json, Value};

use super::{EventFactory, StripeEvent};

/// One tier of a tiered Price: up to `up_to` units (None: no upper bound), `unit_amount`
/// minor units each, plus `flat_amount` for the whole tier if given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tier {
    /// Highest quantity of the tier; `None` for the last one.
    pub up_to: Option<i64>,
    /// Price per unit, in minor units.
    pub unit_amount: i64,
    /// Flat fee for the tier, in minor units.
    pub flat_amount: Option<i64>,
}

impl Tier {
    /// The tier as it appears in `price.tiers`.
    pub fn json(&self) -> Value {
        json!({
            "flat_amount": self.flat_amount,
            "flat_amount_decimal": self.flat_amount.map(|a| a.to_string()),
            "unit_amount": self.unit_amount,
            "unit_amount_decimal": self.unit_amount.to_string(),
            "up_to": self.up_to
        })
    }
}

/// How a Price charges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pricing {
    /// `unit_amount` minor units per unit.
    PerUnit(i64),
    /// Graduated tiers; `tiers: None` leaves `tiers` out of the payload, as webhooks do.
    Tiered(Option<Vec<Tier>>),
}

impl EventFactory {
    /// A Product called `name`.
    pub fn product(&self, name: &str, created: i64) -> Value {
        json!({
            "id": self.id("prod"),
            "object": "product",
            "active": true,
            "created": created,
            "default_price": null,
            "description": null,
            "images": [],
            "livemode": self.livemode,
            "marketing_features": [],
            "metadata": {},
            "name": name,
            "package_dimensions": null,
            "shippable": null,
            "statement_descriptor": null,
            "tax_code": null,
            "type": "service",
            "unit_label": "seat",
            "updated": created,
            "url": null
        })
    }

    /// A monthly Price of `product_id` in `currency`.
    pub fn price(
        &self,
        product_id: &str,
        currency: &str,
        pricing: &Pricing,
        nickname: Option<&str>,
        created: i64,
    ) -> Value {
        let (scheme, unit_amount, tiers_mode) = match pricing {
            Pricing::PerUnit(amount) => ("per_unit", json!(amount), Value::Null),
            Pricing::Tiered(_) => ("tiered", Value::Null, json!("graduated")),
        };
        let mut price = json!({
            "id": self.id("price"),
            "object": "price",
            "active": true,
            "billing_scheme": scheme,
            "created": created,
            "currency": currency,
            "custom_unit_amount": null,
            "livemode": self.livemode,
            "lookup_key": null,
            "metadata": {},
            "nickname": nickname,
            "product": product_id,
            "recurring": {
                "interval": "month",
                "interval_count": 1,
                "meter": null,
                "trial_period_days": null,
                "usage_type": "licensed"
            },
            "tax_behavior": "unspecified",
            "tiers_mode": tiers_mode,
            "transform_quantity": null,
            "type": "recurring",
            "unit_amount": unit_amount,
            "unit_amount_decimal": unit_amount.as_i64().map(|a| a.to_string())
        });
        if let Pricing::Tiered(Some(tiers)) = pricing {
            price["tiers"] = tiers.iter().map(Tier::json).collect();
        }
        price
    }

    /// A product and its events: `price.created` of a tiered price with three tiers,
    /// `price.updated` with two of them, a `price.updated` without `tiers` (as webhooks send
    /// it), and `product.updated` renaming the product, one second apart from `created`.
    pub fn catalog(&self, currency: &str, created: i64) -> Vec<StripeEvent> {
        let product = self.product("Team plan", created);
        let product_id = product["id"].as_str().unwrap_or_default().to_owned();
        let tiers = vec![
            Tier {
                up_to: Some(5),
                unit_amount: 1_000,
                flat_amount: None,
            },
            Tier {
                up_to: Some(10),
                unit_amount: 800,
                flat_amount: Some(500),
            },
            Tier {
                up_to: None,
                unit_amount: 600,
                flat_amount: None,
            },
        ];
        let created_price = self.price(
            &product_id,
            currency,
            &Pricing::Tiered(Some(tiers.clone())),
            Some("Seats"),
            created,
        );
        let mut two_tiers = created_price.clone();
        two_tiers["tiers"] = [
            tiers[0],
            Tier {
                up_to: None,
                ..tiers[1]
            },
        ]
        .iter()
        .map(Tier::json)
        .collect();
        let mut without_tiers = created_price.clone();
        if let Some(fields) = without_tiers.as_object_mut() {
            fields.remove("tiers");
        }
        without_tiers["nickname"] = json!("Seats (2027)");
        let mut renamed = product;
        renamed["name"] = json!("Team plan (2027)");
        renamed["updated"] = json!(created + 3);
        vec![
            self.event("price.created", created_price, None, created),
            self.event(
                "price.updated",
                two_tiers,
                Some(json!({ "metadata": {} })),
                created + 1,
            ),
            self.event(
                "price.updated",
                without_tiers,
                Some(json!({ "nickname": "Seats" })),
                created + 2,
            ),
            self.event(
                "product.updated",
                renamed,
                Some(json!({ "name": "Team plan" })),
                created + 3,
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_are_in_the_payload_only_when_given() {
        let factory = EventFactory::new();
        let tiered = factory.price("prod_1", "usd", &Pricing::Tiered(None), None, 1);
        assert!(tiered.get("tiers").is_none());
        assert_eq!(tiered["billing_scheme"], "tiered");
        assert_eq!(tiered["unit_amount"], Value::Null);
        let flat = factory.price("prod_1", "usd", &Pricing::PerUnit(4_999), None, 1);
        assert_eq!(flat["unit_amount_decimal"], "4999");
        let events = factory.catalog("usd", 1_786_000_000);
        let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(
            types,
            [
                "price.created",
                "price.updated",
                "price.updated",
                "product.updated"
            ]
        );
        assert_eq!(
            events[0].json["data"]["object"]["tiers"][2]["up_to"],
            Value::Null
        );
        assert_eq!(
            events[1].json["data"]["object"]["tiers"]
                .as_array()
                .map(Vec::len),
            Some(2)
        );
        assert!(events[2].json["data"]["object"].get("tiers").is_none());
        assert_eq!(events[0].object_id, events[1].object_id);
        assert!(events.windows(2).all(|w| w[0].created < w[1].created));
    }
}
