//! `workers outbound` settings: where the Pub/Sub API is, which channels, where to start,
//! the lease, batching, and Checkout's return URLs.

use std::{path::PathBuf, time::Duration};

use clap::{Args, ValueEnum};
use common::config::{millis, positive_count, positive_millis};

/// Where the Pub/Sub API of Salesforce's production and sandbox orgs answers.
pub const SALESFORCE_PUBSUB_URL: &str = "https://api.pubsub.salesforce.com:7443";

/// Where a channel starts when no replay id is stored yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StartAt {
    /// Changes from now on.
    Latest,
    /// Every change Salesforce still keeps (72 hours): creates customers for Contacts
    /// changed in that time.
    Earliest,
}

/// The outbound role's own settings.
#[derive(Debug, Clone, Args)]
pub struct OutboundConfig {
    /// The Pub/Sub API endpoint.
    #[arg(long = "pubsub-url", env = "PUBSUB_URL", default_value = SALESFORCE_PUBSUB_URL)]
    pub pubsub_url: String,
    /// An extra CA certificate (PEM) to trust for the Pub/Sub API (a simulator's).
    #[arg(long = "pubsub-ca-file", env = "PUBSUB_CA_FILE")]
    pub pubsub_ca_file: Option<PathBuf>,
    /// The name the Pub/Sub API's certificate is checked against, when not the URL's host.
    #[arg(long = "pubsub-tls-domain", env = "PUBSUB_TLS_DOMAIN")]
    pub pubsub_tls_domain: Option<String>,
    /// Change event channels, comma-separated; one replica subscribes to each.
    #[arg(
        long = "outbound-channels",
        env = "OUTBOUND_CHANNELS",
        value_delimiter = ',',
        default_value = "/data/ContactChangeEvent,/data/Stripe_Subscription__ChangeEvent"
    )]
    pub channels: Vec<String>,
    /// Where a channel starts when nothing is stored for it.
    #[arg(
        long = "outbound-start",
        env = "OUTBOUND_START",
        value_enum,
        default_value = "latest"
    )]
    pub start: StartAt,
    /// Milliseconds a channel's lease lasts unrenewed: how soon a standby takes over from a
    /// replica that died.
    #[arg(
        long = "outbound-lease-ms",
        env = "OUTBOUND_LEASE_MS",
        default_value = "10000",
        value_parser = positive_millis
    )]
    pub lease: Duration,
    /// Most changes per batch.
    #[arg(
        long = "outbound-batch-size",
        env = "OUTBOUND_BATCH_SIZE",
        default_value = "100",
        value_parser = positive_count
    )]
    pub batch_size: usize,
    /// Milliseconds a batch waits for more changes after the first: fewer Salesforce calls
    /// per change, a little more latency.
    #[arg(
        long = "outbound-linger-ms",
        env = "OUTBOUND_LINGER_MS",
        default_value = "300",
        value_parser = millis
    )]
    pub linger: Duration,
    /// Where Checkout sends a customer who paid.
    #[arg(
        long = "checkout-success-url",
        env = "CHECKOUT_SUCCESS_URL",
        default_value = "https://example.com/checkout/success"
    )]
    pub success_url: String,
    /// Where Checkout sends a customer who gave up.
    #[arg(long = "checkout-cancel-url", env = "CHECKOUT_CANCEL_URL")]
    pub cancel_url: Option<String>,
    /// A TOML file with the outbound rules (default: the built-in
    /// workers/outbound.default.toml).
    #[arg(long = "outbound-rules-file", env = "OUTBOUND_RULES_FILE")]
    pub rules_file: Option<PathBuf>,
}
