//! `workers outbound`: Salesforce → Stripe, from Change Data Capture.
//!
//! Two halves, both in every replica:
//! - [`subscriber`]: per change event channel, the replica holding the channel's lease
//!   subscribes to the Pub/Sub API and journals each change into the outbound stream
//!   (`{prefix}:outbound`) with the replay id after it ([`journal`]); a standby takes over
//!   within a lease time when the holder dies.
//! - [`processor`]: the consumer group `outbound` reads the stream in batches, like the
//!   inbound consumers: claims per record, retries, dead letters, the Salesforce limiter and
//!   breaker, and the operator commands all apply. Contacts become Stripe customers exactly
//!   once ([`stripe_side`]); pending subscription records become Checkout sessions; results
//!   are written back through Collections. What triggers what is [`rules`] (data).
//!
//! The fleet's own writes coming back as changes are echoes and trigger nothing ([`change`]).

pub mod actions;
pub mod change;
pub mod config;
pub mod decide;
pub mod journal;
pub mod processor;
pub mod rules;
pub mod salesforce_side;
pub mod stripe_side;
pub mod subscriber;
pub mod write_back;

use std::sync::{atomic::AtomicU64, Arc};

use anyhow::Context;
use reqwest::Method;
use salesforce_client::SalesforceClient;
use salesforce_pubsub::PubSubEndpoint;
use stripe_client::StripeClient;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{
    backoff::{outage_backoff, pause},
    config::{FleetConfig, StripeConfig},
    consumer::{BatchPolicy, BatchSource, ConsumerConfig, ConsumerRuntime},
    guard::StripeBudget,
    store::{self, Priority},
};
pub use config::OutboundConfig;
use journal::ChannelJournal;
use processor::Processor;
use rules::OutboundRules;
use stripe_side::{CheckoutUrls, StripeSide};
use subscriber::Subscriber;

/// Who the fleet is in the org: `/services/oauth2/userinfo`'s `organization_id` (the
/// Pub/Sub API's `tenantid`) and `user_id` (whose changes are the fleet's own).
async fn whoami(client: &SalesforceClient) -> anyhow::Result<(String, String)> {
    let answer = client
        .call(Method::GET, "/services/oauth2/userinfo", None)
        .await?;
    let info: serde_json::Value =
        serde_json::from_str(&answer.body).context("userinfo is not JSON")?;
    let field = |name: &str| {
        info.get(name)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .with_context(|| format!("userinfo has no {name}"))
    };
    Ok((field("organization_id")?, field("user_id")?))
}

/// With the secrets in AWS Secrets Manager, a rotated `STRIPE_API_KEY` is put in force for the
/// next Stripe request (the budget keeps the rate chosen at start for the first key's mode).
fn follow_key_rotation(client: &StripeClient, shutdown: CancellationToken) {
    let client = client.clone();
    common::secrets::follow(
        "STRIPE_API_KEY",
        shutdown,
        move |text| match stripe_client::ApiKey::new(text) {
            Ok(key) => {
                tracing::info!(key = %key, "Stripe API key rotated; the next request uses it.");
                client.set_api_key(key);
            }
            Err(error) => {
                tracing::warn!(%error, "The rotated STRIPE_API_KEY is not a key; the old one stays in force.");
            }
        },
    );
}

/// Runs the outbound role until `shutdown`.
pub async fn run(
    fleet: FleetConfig,
    consumer: ConsumerConfig,
    stripe: StripeConfig,
    config: OutboundConfig,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let rules = Arc::new(OutboundRules::load(config.rules_file.as_deref())?);
    let ca_pem = match &config.pubsub_ca_file {
        Some(path) => Some(
            std::fs::read(path).with_context(|| format!("PUBSUB_CA_FILE {}", path.display()))?,
        ),
        None => None,
    };
    let runtime = ConsumerRuntime::build(&fleet, &consumer, Priority::Outbound, &shutdown).await?;
    if !runtime.wait_for_groups(&shutdown).await {
        return Ok(());
    }
    let keys = fleet.keys();
    let conn = store::connect(&fleet.redis_url)?;
    let budget = StripeBudget::new(
        conn.clone(),
        &keys,
        stripe.requests_per_second(),
        &fleet.worker_id,
        shutdown.clone(),
    );
    let stripe_client = StripeClient::new(stripe.settings(), budget)?;
    follow_key_rotation(&stripe_client, shutdown.clone());
    let client = runtime.client().clone();
    let mut delays = outage_backoff();
    let (tenant_id, fleet_user) = loop {
        match whoami(&client).await {
            Ok(found) => break found,
            Err(error) => {
                tracing::warn!(error = %format!("{error:#}"), "Cannot read the org's userinfo yet; retrying.");
                if !pause(delays.next(), &shutdown).await {
                    return Ok(());
                }
            }
        }
    };
    tracing::info!(%fleet_user, "Outbound: changes by this user in the fields it writes are the fleet's own.");

    let tasks = TaskTracker::new();
    runtime.spawn_retry_mover(&tasks, shutdown.clone());
    let endpoint = PubSubEndpoint {
        url: config.pubsub_url.clone(),
        ca_pem,
        domain: config.pubsub_tls_domain.clone(),
    };
    for channel in &config.channels {
        let subscriber = Subscriber {
            client: client.clone(),
            endpoint: endpoint.clone(),
            tenant_id: tenant_id.clone(),
            journal: ChannelJournal::new(
                conn.clone(),
                keys.clone(),
                channel,
                &fleet.worker_id,
                config.lease,
                fleet.dedupe_window,
                fleet.lifecycle_retention,
            ),
            rules: rules.clone(),
            start: config.start,
        };
        tasks.spawn(subscriber.run(shutdown.clone()));
    }

    let processor = Processor {
        client,
        ledger: runtime.ledger().clone(),
        stripe: StripeSide::new(stripe_client, conn, keys),
        rules,
        fleet_user,
        urls: CheckoutUrls {
            success: config.success_url.clone(),
            cancel: config.cancel_url.clone(),
        },
        retry: consumer.retry.clone(),
        batches: AtomicU64::new(0),
    };
    let mut source = BatchSource::new(
        BatchPolicy {
            size: config.batch_size,
            block: std::time::Duration::from_millis(1000),
            linger: config.linger,
            reclaim_idle: consumer.reclaim_idle,
        },
        "outbound",
    );
    tracing::info!(consumer = %fleet.worker_id, channels = ?config.channels, "Outbound worker started.");
    let mut delays = outage_backoff();
    while !shutdown.is_cancelled() {
        let batch = tokio::select! {
            () = shutdown.cancelled() => break,
            batch = source.next(&runtime) => batch,
        };
        let result = match batch {
            Ok(batch) if batch.is_empty() => Ok(()),
            Ok(batch) => processor.process(batch).await,
            Err(error) => Err(error),
        };
        if let Err(error) = result {
            tracing::warn!(%error, "Redis error in the outbound loop; retrying.");
            runtime.recover_from(&error).await;
            if !pause(delays.next(), &shutdown).await {
                break;
            }
        } else {
            delays = outage_backoff();
        }
    }
    tasks.close();
    tasks.wait().await;
    tracing::info!("Outbound worker stopped.");
    Ok(())
}
