//! Customers (API reference, "Customers"): what a Salesforce Contact becomes.

use serde::{Deserialize, Serialize};

use super::{path_segment, Metadata};
use crate::{
    list::{List, Page},
    IdempotencyKey, StripeClient, StripeError,
};

/// A Stripe customer. Holds personal data: never log it whole.
#[derive(Clone, Deserialize)]
pub struct Customer {
    /// `cus_…`.
    pub id: String,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// Full name.
    #[serde(default)]
    pub name: Option<String>,
    /// Phone number.
    #[serde(default)]
    pub phone: Option<String>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// The integration's keys (`salesforce_id`) and anyone else's.
    #[serde(default)]
    pub metadata: Metadata,
    /// Creation time, epoch seconds.
    #[serde(default)]
    pub created: i64,
    /// True for the stub Stripe answers for a deleted customer.
    #[serde(default)]
    pub deleted: bool,
}

impl std::fmt::Debug for Customer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Customer")
            .field("id", &self.id)
            .field("deleted", &self.deleted)
            .finish_non_exhaustive()
    }
}

/// What to set on a customer. `None` leaves a field as it is; `Some("")` clears it, as
/// Stripe's API does; metadata keys merge, and a key set to `""` is removed.
#[derive(Clone, Default, Serialize)]
pub struct CustomerParams {
    /// E-mail address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Full name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Phone number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Metadata keys to set.
    #[serde(skip_serializing_if = "Metadata::is_empty")]
    pub metadata: Metadata,
}

/// Filters of the customer list.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ListCustomers {
    /// Exact, case-sensitive e-mail. Unlike search, the list is consistent at once, which
    /// makes it the lookup to trust before creating a customer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Cursor.
    #[serde(flatten)]
    pub page: Page,
}

impl StripeClient {
    /// `POST /v1/customers`.
    pub async fn create_customer(
        &self,
        params: &CustomerParams,
        key: &IdempotencyKey,
    ) -> Result<Customer, StripeError> {
        self.post("/v1/customers", params, key).await
    }

    /// `GET /v1/customers/{id}` (a deleted customer answers with `deleted: true`).
    pub async fn retrieve_customer(&self, id: &str) -> Result<Customer, StripeError> {
        self.get_one(&format!("/v1/customers/{}", path_segment(id)))
            .await
    }

    /// `POST /v1/customers/{id}`.
    pub async fn update_customer(
        &self,
        id: &str,
        params: &CustomerParams,
        key: &IdempotencyKey,
    ) -> Result<Customer, StripeError> {
        self.post(&format!("/v1/customers/{}", path_segment(id)), params, key)
            .await
    }

    /// `DELETE /v1/customers/{id}`.
    pub async fn delete_customer(&self, id: &str) -> Result<Customer, StripeError> {
        self.delete(&format!("/v1/customers/{}", path_segment(id)))
            .await
    }

    /// `GET /v1/customers`, one page.
    pub async fn list_customers(
        &self,
        filter: &ListCustomers,
    ) -> Result<List<Customer>, StripeError> {
        self.get("/v1/customers", filter).await
    }
}
