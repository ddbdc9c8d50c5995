//! The Stripe calls of the outbound direction, each safe to repeat.
//!
//! **One customer per Contact.** Before the first create, the attempt is recorded in Redis
//! (`{prefix}:outbound:customer:<Contact id>`: the idempotency key and the parameters, set
//! once by whichever replica comes first). Every later attempt — a retry, a duplicated change,
//! another replica, a restart after a crash between the Stripe call and the write-back —
//! sends the same key with the same parameters, and Stripe answers with the customer it
//! made the first time. Stripe keeps keys at least 24 hours; an attempt older than
//! [`KEY_TRUST`] first looks the customer up in the customer list filtered by e-mail
//! (consistent at once, unlike search) and checks `metadata.salesforce_id`.

use std::time::Duration;

use crate::store::RedisConnection;
use common::time::unix_millis;
use serde::{Deserialize, Serialize};
use stripe_client::{
    checkout::{CheckoutMode, CreateCheckoutSession, LineItem, SubscriptionData},
    customers::{CustomerParams, ListCustomers},
    IdempotencyKey, Metadata, Page, StripeClient, StripeError,
};

use crate::keys::KeySpace;

/// How long an idempotency key is trusted to replay: under Stripe's 24 hours.
pub const KEY_TRUST: Duration = Duration::from_secs(23 * 3600);

/// The metadata key naming the Salesforce record on Stripe objects.
pub const SALESFORCE_ID: &str = "salesforce_id";

/// A customer's contact data, as the Contact has it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactData {
    /// E-mail.
    pub email: String,
    /// "First Last", or whichever part exists.
    pub name: Option<String>,
    /// Phone.
    pub phone: Option<String>,
}

impl ContactData {
    fn params(&self, contact_id: &str) -> CustomerParams {
        CustomerParams {
            email: Some(self.email.clone()),
            name: self.name.clone(),
            phone: self.phone.clone(),
            metadata: Metadata::from([(SALESFORCE_ID.to_owned(), contact_id.to_owned())]),
            ..CustomerParams::default()
        }
    }
}

/// The recorded attempt at a Contact's customer.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Attempt {
    key: String,
    data: ContactData,
    started_at: i64,
}

/// Makes and updates customers, and opens Checkout sessions.
#[derive(Clone)]
pub struct StripeSide {
    stripe: StripeClient,
    conn: RedisConnection,
    keys: KeySpace,
}

impl StripeSide {
    /// Calls `stripe`, recording attempts in Redis under `keys`.
    pub fn new(stripe: StripeClient, conn: RedisConnection, keys: KeySpace) -> Self {
        Self { stripe, conn, keys }
    }

    /// The Contact's customer id: the one made before, or a new one. `cause` (the change's
    /// id) names the first attempt's idempotency key.
    pub async fn ensure_customer(
        &self,
        contact_id: &str,
        data: &ContactData,
        cause: &str,
    ) -> Result<String, OutboundError> {
        let key = self.keys.outbound_customer(contact_id);
        let mut conn = self.conn.clone();
        let (customer, attempt): (Option<String>, Option<String>) = redis::cmd("HMGET")
            .arg(&key)
            .arg("customer_id")
            .arg("attempt")
            .query_async(&mut conn)
            .await?;
        if let Some(customer) = customer {
            return Ok(customer);
        }
        let attempt: Option<Attempt> = attempt.and_then(|text| serde_json::from_str(&text).ok());
        let fresh =
            |attempt: &Attempt| unix_millis() - attempt.started_at < KEY_TRUST.as_millis() as i64;
        let attempt = match attempt {
            Some(attempt) if fresh(&attempt) => attempt,
            stale => {
                if stale.is_some() {
                    // The key may have expired at Stripe: find the customer it made, if any.
                    if let Some(found) = self.find_customer(contact_id, data).await? {
                        self.remember(&key, &found).await?;
                        return Ok(found);
                    }
                    let _: () = redis::cmd("HDEL")
                        .arg(&key)
                        .arg("attempt")
                        .query_async(&mut conn)
                        .await?;
                }
                self.record_attempt(&key, contact_id, data, cause).await?
            }
        };
        let params = attempt.data.params(contact_id);
        let customer = self
            .stripe
            .create_customer(&params, &IdempotencyKey::from_raw(&attempt.key))
            .await?;
        self.remember(&key, &customer.id).await?;
        if attempt.data != *data {
            // The Contact changed between the first attempt and this one.
            self.update_customer(&customer.id, data, &format!("{cause}/catch-up"))
                .await?;
        }
        Ok(customer.id)
    }

    /// Records the first attempt (or reads the one another replica recorded first).
    async fn record_attempt(
        &self,
        key: &str,
        contact_id: &str,
        data: &ContactData,
        cause: &str,
    ) -> Result<Attempt, OutboundError> {
        let mine = Attempt {
            key: IdempotencyKey::derive("customer.create", &[contact_id, cause])
                .as_str()
                .to_owned(),
            data: data.clone(),
            started_at: unix_millis(),
        };
        let text = serde_json::to_string(&mine).unwrap_or_default();
        let mut conn = self.conn.clone();
        let (_, stored): (bool, Option<String>) = redis::pipe()
            .atomic()
            .cmd("HSETNX")
            .arg(key)
            .arg("attempt")
            .arg(&text)
            .cmd("HGET")
            .arg(key)
            .arg("attempt")
            .query_async(&mut conn)
            .await?;
        Ok(stored
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or(mine))
    }

    async fn remember(&self, key: &str, customer: &str) -> Result<(), OutboundError> {
        let _: () = redis::cmd("HSET")
            .arg(key)
            .arg("customer_id")
            .arg(customer)
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    /// A customer made for this Contact, found in the list filtered by e-mail.
    async fn find_customer(
        &self,
        contact_id: &str,
        data: &ContactData,
    ) -> Result<Option<String>, OutboundError> {
        let list = self
            .stripe
            .list_customers(&ListCustomers {
                email: Some(data.email.clone()),
                page: Page::first(100),
            })
            .await?;
        Ok(list
            .data
            .into_iter()
            .find(|customer| {
                !customer.deleted
                    && customer.metadata.get(SALESFORCE_ID).map(String::as_str) == Some(contact_id)
            })
            .map(|customer| customer.id))
    }

    /// Sets the customer's e-mail, name and phone to the Contact's.
    pub async fn update_customer(
        &self,
        customer_id: &str,
        data: &ContactData,
        cause: &str,
    ) -> Result<(), OutboundError> {
        let params = CustomerParams {
            email: Some(data.email.clone()),
            name: Some(data.name.clone().unwrap_or_default()),
            phone: Some(data.phone.clone().unwrap_or_default()),
            ..CustomerParams::default()
        };
        let key = IdempotencyKey::derive("customer.update", &[customer_id, cause]);
        self.stripe
            .update_customer(customer_id, &params, &key)
            .await?;
        Ok(())
    }

    /// Opens a subscription Checkout session for a subscription record.
    pub async fn open_checkout(
        &self,
        request: &CheckoutRequest,
        urls: &CheckoutUrls,
    ) -> Result<(String, Option<String>), StripeError> {
        let metadata = Metadata::from([(SALESFORCE_ID.to_owned(), request.record_id.clone())]);
        let params = CreateCheckoutSession {
            mode: CheckoutMode::Subscription,
            customer: Some(request.customer_id.clone()),
            line_items: vec![LineItem {
                price: request.price_id.clone(),
                quantity: 1,
            }],
            success_url: urls.success.clone(),
            cancel_url: urls.cancel.clone(),
            client_reference_id: Some(request.record_id.clone()),
            metadata: metadata.clone(),
            subscription_data: Some(SubscriptionData { metadata }),
        };
        // One session per pending request: the record and the change that asked.
        let key = IdempotencyKey::derive("checkout.create", &[&request.record_id, &request.cause]);
        let session = self.stripe.create_checkout_session(&params, &key).await?;
        Ok((session.id, session.url))
    }
}

/// A Checkout session to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutRequest {
    /// The subscription record.
    pub record_id: String,
    /// `cus_…`.
    pub customer_id: String,
    /// `price_…`.
    pub price_id: String,
    /// The change that asked (its event id).
    pub cause: String,
}

/// Where Checkout sends the customer afterwards.
#[derive(Debug, Clone)]
pub struct CheckoutUrls {
    /// After paying.
    pub success: String,
    /// After giving up.
    pub cancel: Option<String>,
}

/// Why an outbound action failed.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    /// Stripe refused or did not answer.
    #[error(transparent)]
    Stripe(#[from] StripeError),
    /// Redis failed.
    #[error("Redis: {0}")]
    Redis(#[from] redis::RedisError),
}
