//! Customer search (https://docs.stripe.com/api/customers/search): `GET
//! /v1/customers/search?query=…` with `limit` and `page`, answering a `search_result`
//! (`data`, `has_more`, `next_page`). Stripe's search is eventually consistent: "Don't use
//! search in read-after-write flows … data is searchable in less than a minute"
//! (https://docs.stripe.com/search, "Data freshness"). The simulator keeps its own index,
//! fed from the customer events: each change shows in search `search_delay` after it was
//! made, and until then search answers the old state.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::StripeError;
use crate::form;
use crate::list::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::query::{self, Fields};
use crate::state::{AppState, Collection};

/// The customer fields Stripe's search takes that the simulator keeps.
const CUSTOMER_FIELDS: Fields = Fields {
    strings: &["email", "name", "phone"],
    numbers: &["created"],
    resource: "customers",
};

/// Routes: `GET /v1/customers/search`.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/customers/search", get(search_customers))
}

/// What search sees of the customers: changes become visible after the delay.
#[derive(Debug)]
pub struct SearchIndex {
    delay: Duration,
    pending: Mutex<VecDeque<(Instant, String, Option<Value>)>>,
    visible: Mutex<Collection>,
}

impl SearchIndex {
    /// An empty index whose changes show after `delay`.
    pub fn new(delay: Duration) -> Self {
        Self {
            delay,
            pending: Mutex::new(VecDeque::new()),
            visible: Mutex::new(Collection::default()),
        }
    }

    /// Records that customer `id` now is `customer` (`None`: deleted), visible from
    /// `now + delay`.
    pub fn record(&self, id: &str, customer: Option<Value>, now: Instant) {
        self.pending
            .lock()
            .push_back((now + self.delay, id.to_string(), customer));
    }

    /// The customers search sees at `now`, newest first, that `keep` accepts.
    pub fn visible(&self, now: Instant, keep: impl Fn(&Value) -> bool) -> Vec<Value> {
        let mut visible = self.visible.lock();
        let mut pending = self.pending.lock();
        while pending.front().is_some_and(|(due, _, _)| *due <= now) {
            let Some((_, id, customer)) = pending.pop_front() else {
                break;
            };
            match (customer, visible.get_mut(&id)) {
                (Some(customer), Some(shown)) => *shown = customer,
                (Some(customer), None) => visible.insert(id, customer),
                (None, _) => {
                    visible.remove(&id);
                }
            }
        }
        visible
            .newest_first()
            .into_iter()
            .filter(|customer| keep(customer))
            .cloned()
            .collect()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchParams {
    query: String,
    limit: Option<i64>,
    page: Option<String>,
    #[serde(default)]
    #[expect(dead_code, reason = "accepted as Stripe does; nothing expands here")]
    expand: Vec<String>,
}

async fn search_customers(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, StripeError> {
    let params: SearchParams = form::parse(raw.unwrap_or_default().as_bytes())?;
    let query = query::parse(&params.query, CUSTOMER_FIELDS)
        .map_err(|message| StripeError::invalid(None, message, Some("query")))?;
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(StripeError::invalid(
            None,
            format!("This value must be between 1 and {MAX_LIMIT} (it currently is '{limit}')."),
            Some("limit"),
        ));
    }
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let offset = match params.page.as_deref() {
        None => 0,
        Some(page) => page_offset(page)
            .ok_or_else(|| StripeError::invalid(None, "Invalid page.", Some("page")))?,
    };
    let found = state
        .search
        .visible(Instant::now(), |customer| query.matches(customer));
    let data: Vec<Value> = found.iter().skip(offset).take(limit).cloned().collect();
    let has_more = found.len() > offset + data.len();
    let next_page = has_more.then(|| page_token(offset + data.len()));
    Ok(Json(json!({
        "object": "search_result",
        "data": data,
        "has_more": has_more,
        "next_page": next_page,
        "url": "/v1/customers/search",
    })))
}

/// The opaque `next_page` cursor for results from `offset` on.
fn page_token(offset: usize) -> String {
    format!("page_{offset}")
}

/// The offset a `page` cursor stands for.
fn page_offset(page: &str) -> Option<usize> {
    page.strip_prefix("page_")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_show_after_the_delay_and_updates_replace() {
        let index = SearchIndex::new(Duration::from_secs(1));
        let start = Instant::now();
        index.record("cus_1", Some(json!({"id": "cus_1", "name": "a"})), start);
        assert!(index.visible(start, |_| true).is_empty(), "not yet indexed");
        let later = start + Duration::from_secs(1);
        assert_eq!(index.visible(later, |_| true).len(), 1);
        index.record("cus_1", Some(json!({"id": "cus_1", "name": "b"})), later);
        assert_eq!(index.visible(later, |_| true)[0]["name"], "a", "old state");
        let after = later + Duration::from_secs(1);
        assert_eq!(index.visible(after, |_| true)[0]["name"], "b");
        index.record("cus_1", None, after);
        assert!(index
            .visible(after + Duration::from_secs(1), |_| true)
            .is_empty());
    }

    #[test]
    fn page_tokens_round_trip() {
        assert_eq!(page_offset(&page_token(20)), Some(20));
        assert_eq!(page_offset("nonsense"), None);
    }
}
