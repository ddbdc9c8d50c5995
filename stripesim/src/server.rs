//! Starting and stopping the simulator, in-process (tests) or from the `stripesim` binary.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::SimConfig;
use crate::error::{SimError, StripeError};
use crate::state::{AppState, SimState};
use crate::{
    admin, billing, customers, edge, events, idempotency, prices, products, search, webhooks,
};

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
        if !(config.retry_scale.is_finite() && config.retry_scale >= 0.0) {
            return Err(SimError::Config(format!(
                "retry scale {} is not a non-negative number",
                config.retry_scale
            )));
        }
        let bind_error = |source| SimError::Bind {
            addr: config.listen_addr,
            source,
        };
        let listener = tokio::net::TcpListener::bind(config.listen_addr)
            .await
            .map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;
        let state: AppState = Arc::new(SimState::new(config, shutdown.clone()));
        let service = app(state.clone());
        let serve_shutdown = shutdown.clone();
        let tasks = state.tasks.clone();
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, service)
                .with_graceful_shutdown(serve_shutdown.cancelled_owned())
                .await
            {
                tracing::error!(%error, "The simulator's HTTP server failed.");
            }
            tasks.close();
            tasks.wait().await;
        });
        tracing::info!(%addr, "Stripe simulator listening.");
        Ok(RunningSimulator {
            addr,
            base_url: format!("http://{addr}"),
            state,
            shutdown,
            server: Some(server),
        })
    }
}

/// The whole HTTP surface: the API behind idempotency and the optional mutation delay,
/// `/__sim/`, and the edge (request id, version, key) around everything.
fn app(state: AppState) -> Router {
    let api = Router::new()
        .merge(customers::router())
        .merge(search::router())
        .merge(events::router())
        .merge(products::router())
        .merge(prices::router())
        .merge(billing::router())
        .merge(webhooks::router())
        .layer(from_fn_with_state(state.clone(), mutation_delay))
        .layer(from_fn_with_state(state.clone(), idempotency::idempotency));
    Router::new()
        .merge(api)
        .merge(admin::router())
        .merge(billing::admin_router())
        .fallback(not_found)
        .layer(from_fn_with_state(state.clone(), edge::edge))
        .with_state(state)
}

/// Holds mutating requests for `config.mutation_delay` (zero: no wait).
async fn mutation_delay(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let delay = state.config.mutation_delay;
    if !delay.is_zero() && request.method() != Method::GET {
        tokio::time::sleep(delay).await;
    }
    next.run(request).await
}

async fn not_found(request: Request) -> Response {
    StripeError::unrecognized_url(request.method().as_str(), request.uri().path()).into_response()
}

impl RunningSimulator {
    /// `http://127.0.0.1:port`: the API base to give Stripe clients.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
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
    }

    /// Stops accepting requests, finishes in-flight ones and deliveries, and waits.
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
