//! Starting and stopping the simulator, in-process (tests) or from the `sfsim` binary.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::Request;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::{Router, ServiceExt};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tower_http::normalize_path::NormalizePath;

use crate::config::SimConfig;
use crate::error::{ApiError, SimError};
use crate::state::{AppState, SimState};
use crate::{admin, auth, gate, rest};

/// Entry point: `Simulator::start(config).await`.
#[derive(Debug)]
pub struct Simulator;

/// A simulator serving on a port. Dropping it stops the server (without waiting);
/// [`RunningSimulator::shutdown`] stops it and waits.
#[derive(Debug)]
pub struct RunningSimulator {
    addr: SocketAddr,
    base_url: String,
    state: AppState,
    shutdown: CancellationToken,
    server: Option<JoinHandle<()>>,
    pubsub: Option<(SocketAddr, JoinHandle<()>)>,
}

impl Simulator {
    /// Binds `config.listen_addr` and serves until shut down.
    pub async fn start(config: SimConfig) -> Result<RunningSimulator, SimError> {
        Self::start_with_shutdown(config, CancellationToken::new()).await
    }

    /// Like [`Simulator::start`], stopping when `shutdown` is cancelled (the binary passes
    /// the SIGTERM token from `common::shutdown::on_signal`).
    pub async fn start_with_shutdown(
        config: SimConfig,
        shutdown: CancellationToken,
    ) -> Result<RunningSimulator, SimError> {
        let listener = tokio::net::TcpListener::bind(config.listen_addr)
            .await
            .map_err(|source| SimError::Bind {
                addr: config.listen_addr,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| SimError::Bind {
            addr: config.listen_addr,
            source,
        })?;
        let base_url = format!("http://{addr}");
        let state: AppState = Arc::new(SimState::new(config, base_url.clone(), shutdown.clone())?);
        let pubsub = crate::pubsub::start(state.clone()).await?;
        let app = NormalizePath::trim_trailing_slash(app(state.clone()));
        let serve_shutdown = shutdown.clone();
        let tasks = state.tasks.clone();
        let server = tokio::spawn(async move {
            let service = ServiceExt::<Request>::into_make_service(app);
            if let Err(error) = axum::serve(listener, service)
                .with_graceful_shutdown(serve_shutdown.cancelled_owned())
                .await
            {
                tracing::error!(%error, "The simulator's HTTP server failed.");
            }
            tasks.close();
            tasks.wait().await;
        });
        tracing::info!(%addr, "Salesforce simulator listening.");
        Ok(RunningSimulator {
            addr,
            base_url,
            state,
            shutdown,
            server: Some(server),
            pubsub,
        })
    }
}

/// The whole HTTP surface.
fn app(state: AppState) -> Router {
    let oauth = auth::router().layer(from_fn_with_state(state.clone(), gate::edge_gate));
    Router::new()
        .merge(oauth)
        .merge(rest::router(state.clone()))
        .merge(admin::router())
        .fallback(not_found)
        .with_state(state)
}

async fn not_found() -> Response {
    ApiError::not_found().into_response()
}

impl RunningSimulator {
    /// `http://127.0.0.1:port`: the login URL and the instance URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A client for this simulator's `/__sim/` API.
    pub fn admin(&self) -> crate::SimAdmin {
        common::telemetry::install_crypto_provider();
        crate::SimAdmin::new(reqwest::Client::new(), self.base_url())
    }

    /// The Pub/Sub API's bound address, if it is served.
    pub fn pubsub_addr(&self) -> Option<SocketAddr> {
        self.pubsub.as_ref().map(|(addr, _)| *addr)
    }

    /// `https://127.0.0.1:port` of the Pub/Sub API, if it is served.
    pub fn pubsub_url(&self) -> Option<String> {
        self.pubsub_addr().map(|addr| format!("https://{addr}"))
    }

    /// The Pub/Sub server's certificate (PEM), for clients to trust.
    pub fn pubsub_cert_pem(&self) -> Option<&str> {
        self.state
            .pubsub_tls
            .as_ref()
            .map(|tls| tls.cert_pem.as_str())
    }

    /// The org id (15 characters), the `tenantid` of Pub/Sub calls.
    pub fn org_id(&self) -> &str {
        &self.state.org_id
    }

    /// The connected app's consumer key.
    pub fn client_id(&self) -> &str {
        &self.state.config.client_id
    }

    /// The connected app's consumer secret.
    pub fn client_secret(&self) -> &str {
        &self.state.config.client_secret
    }

    /// `base_url` + `/services/oauth2/token`.
    pub fn token_url(&self) -> String {
        format!("{}/services/oauth2/token", self.base_url)
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &SimConfig {
        &self.state.config
    }

    /// Waits until the shutdown token is cancelled and the server has stopped.
    pub async fn wait(mut self) {
        if let Some(server) = self.server.take() {
            if let Err(error) = server.await {
                tracing::error!(%error, "The simulator's server task failed.");
            }
        }
        if let Some((_, pubsub)) = self.pubsub.take() {
            if let Err(error) = pubsub.await {
                tracing::error!(%error, "The Pub/Sub server task failed.");
            }
        }
    }

    /// Stops accepting requests, finishes in-flight ones and background jobs, and waits.
    pub async fn shutdown(self) {
        self.shutdown.cancel();
        self.wait().await;
    }
}

impl Drop for RunningSimulator {
    fn drop(&mut self) {
        if self.server.is_some() {
            self.shutdown.cancel();
        }
    }
}
