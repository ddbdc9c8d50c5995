//! `workers check-stripe`: proves, before a role depends on it, that the configured key
//! reaches the configured Stripe through the fleet's shared budget, and says what it found.

use stripe_client::{events::ListEvents, Page, StripeClient, StripeError};
use tokio_util::sync::CancellationToken;

use crate::{
    config::{FleetConfig, StripeConfig},
    guard::StripeBudget,
    store::connect,
};

/// Lists the newest event (one request, through the budget) and describes the answer.
/// The error is the client's classified failure, or Redis being unusable.
pub async fn check(fleet: &FleetConfig, stripe: &StripeConfig) -> anyhow::Result<String> {
    let conn = connect(&fleet.redis_url)?;
    let keys = fleet.keys();
    let rate = stripe.requests_per_second();
    let budget = StripeBudget::new(
        conn,
        &keys,
        rate,
        &fleet.worker_id,
        CancellationToken::new(),
    );
    let client = StripeClient::new(stripe.settings(), budget)?;
    let newest = client
        .list_events(&ListEvents {
            page: Page::first(1),
            ..ListEvents::default()
        })
        .await
        .map_err(describe)?;
    let settings = client.settings();
    let mode = if settings.api_key.is_live() {
        "live"
    } else {
        "test"
    };
    let latest = newest.data.first().map_or_else(
        || "no events yet".to_owned(),
        |event| {
            format!(
                "newest event {} ({}, created {})",
                event.id, event.event_type, event.created
            )
        },
    );
    Ok(format!(
        "OK: {} accepted {} ({mode} mode); Stripe-Version {}; budget {rate} requests/s shared at {}; {latest}\n",
        settings.api_base,
        settings.api_key,
        settings.api_version,
        keys.stripe_limiter(),
    ))
}

/// The failure with what an operator should do about its class.
fn describe(error: StripeError) -> anyhow::Error {
    let hint = match error.class() {
        stripe_client::FailureClass::Auth => {
            "check STRIPE_API_KEY (and a restricted key's permissions)"
        }
        stripe_client::FailureClass::RateLimited => {
            "the account is rate limited: lower STRIPE_REQUESTS_PER_SECOND or wait"
        }
        stripe_client::FailureClass::Retryable => {
            "Stripe did not answer: check STRIPE_API_BASE and the network"
        }
        stripe_client::FailureClass::Permanent => "Stripe refused the request",
    };
    anyhow::anyhow!("{error}: {hint}")
}
