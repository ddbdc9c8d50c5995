//! Change Data Capture over the Pub/Sub API, as Salesforce serves it: gRPC over TLS
//! (`eventbus.v1.PubSub`, the vendored `proto/pubsub_api.proto`), Avro payloads with a
//! `ChangeEventHeader`, replay ids, flow control and keep-alives. Writes from every API
//! become events through the store's transactions ([`bus`]); [`service`] and [`subscribe`]
//! serve them. See docs/sfsim.md for what is simulated and what is not.

pub mod avro;
pub mod bus;
pub mod event;
pub mod service;
pub mod subscribe;
pub mod tls;
pub mod topic;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::{Identity, Server, ServerTlsConfig};

use crate::error::SimError;
use crate::state::AppState;

/// The Pub/Sub API's generated types and field bitmaps, shared with the fleet's subscriber
/// (crate `salesforce-pubsub`).
pub use salesforce_pubsub::{bitmap, proto};

pub use tls::TlsSource;

/// Objects whose changes are published. The repository's SFDX project selects them with
/// `PlatformEventChannelMember` files (`ChangeEvents_ContactChangeEvent`,
/// `ChangeEvents_Stripe_Subscription_ChangeEvent`); sfsim does not parse those, it uses this
/// list.
pub const DEFAULT_CDC_OBJECTS: [&str; 2] = ["Contact", "Stripe_Subscription__c"];

/// Pub/Sub API behaviour.
#[derive(Debug, Clone)]
pub struct PubSubConfig {
    /// Where the gRPC server listens; `None` serves no Pub/Sub API.
    pub listen_addr: Option<SocketAddr>,
    /// Certificate source.
    pub tls: TlsSource,
    /// Names a generated certificate is valid for (DNS names or IP addresses).
    pub tls_names: Vec<String>,
    /// When set, the certificate (PEM) is written here at start, for clients to trust.
    pub cert_out: Option<PathBuf>,
    /// How long events can be replayed (Salesforce: 72 hours).
    pub retention: Duration,
    /// Interval of empty keep-alive responses on an idle stream (Salesforce: within 270 s).
    pub keepalive: Duration,
    /// Objects whose changes are published.
    pub cdc_objects: Vec<String>,
}

impl Default for PubSubConfig {
    fn default() -> Self {
        Self {
            listen_addr: Some(SocketAddr::from(([127, 0, 0, 1], 7443))),
            tls: TlsSource::Generate,
            tls_names: vec!["localhost".to_string(), "127.0.0.1".to_string()],
            cert_out: None,
            retention: Duration::from_secs(72 * 3600),
            keepalive: Duration::from_secs(30),
            cdc_objects: DEFAULT_CDC_OBJECTS.map(String::from).to_vec(),
        }
    }
}

/// Binds the Pub/Sub address and serves until the simulator shuts down. Returns the bound
/// address and the server task.
pub async fn start(state: AppState) -> Result<Option<(SocketAddr, JoinHandle<()>)>, SimError> {
    let (Some(addr), Some(identity)) = (state.config.pubsub.listen_addr, &state.pubsub_tls) else {
        return Ok(None);
    };
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| SimError::Bind { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| SimError::Bind { addr, source })?;
    if let Some(path) = &state.config.pubsub.cert_out {
        std::fs::write(path, &identity.cert_pem).map_err(|error| {
            SimError::Config(format!(
                "writing the Pub/Sub certificate to {}: {error}",
                path.display()
            ))
        })?;
    }
    let tls =
        ServerTlsConfig::new().identity(Identity::from_pem(&identity.cert_pem, &identity.key_pem));
    let server = Server::builder()
        .tls_config(tls)
        .map_err(|error| SimError::Config(format!("Pub/Sub TLS: {error}")))?
        .add_service(proto::pub_sub_server::PubSubServer::new(
            service::PubSubService::new(state.clone()),
        ));
    let shutdown = state.shutdown.clone();
    let task = tokio::spawn(async move {
        let incoming = TcpListenerStream::new(listener);
        if let Err(error) = server
            .serve_with_incoming_shutdown(incoming, shutdown.cancelled_owned())
            .await
        {
            tracing::error!(%error, "The Pub/Sub API server failed.");
        }
    });
    tracing::info!(addr = %bound, "Pub/Sub API (gRPC over TLS) listening.");
    Ok(Some((bound, task)))
}
