//! The simulator's own API under `/__sim/`: inspection for tests and the load generator,
//! and control (reset, faults, limits, sessions). No session needed, nothing counted.
//!
//! | method | path | body / answer |
//! |---|---|---|
//! | GET | `/__sim/health` | `{"status":"ok"}` |
//! | POST | `/__sim/reset[?keep_sessions=true]` | empties the org; `{"reset":true}` |
//! | GET | `/__sim/records/{object}` | `{"object","totalSize","records":[record...]}` |
//! | GET | `/__sim/records/{object}/{id}` | the record plus `"history"` |
//! | GET | `/__sim/history/{object}/{key}[?by=Field]` | `{"object","id","writes":[WriteEntry...]}` |
//! | GET | `/__sim/calls` | `{"total","by_endpoint","by_status","in_flight","long_running"}` |
//! | GET | `/__sim/calls/timeline` | `{"seconds":[{"second","calls"}...]}` |
//! | GET | `/__sim/calls/max-window?window_ms=N[&since_ms=T]` | `{"window_ms","max_calls","window_start_ms"}` |
//! | GET | `/__sim/tokens` | `{"issued","active","tokens":[SessionView...]}` |
//! | POST | `/__sim/sessions/expire` | `{"expired":n}`: 401 for every live token from now |
//! | GET/PUT/DELETE | `/__sim/faults` | `FaultConfig` JSON; DELETE = healthy |
//! | GET/PUT | `/__sim/limits` | `{"daily_api_used","daily_api_max",...}`; PUT sets used/max |
//! | POST | `/__sim/pubsub/gap` | `{"channel","changeType":"GAP_UPDATE","recordIds":[..],"entity"?}`: one gap event |
//! | GET | `/__sim/pubsub/cert` | the Pub/Sub API's TLS certificate (PEM) |

pub mod client;
mod control;
mod inspect;
mod pubsub;

pub use client::{AdminError, SimAdmin};

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

/// Routes under `/__sim/`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/__sim/health", get(inspect::health))
        .route("/__sim/reset", post(control::reset))
        .route("/__sim/records/{object}", get(inspect::records))
        .route("/__sim/records/{object}/{id}", get(inspect::record))
        .route("/__sim/history/{object}/{key}", get(inspect::history))
        .route("/__sim/calls", get(inspect::calls))
        .route("/__sim/calls/timeline", get(inspect::timeline))
        .route("/__sim/calls/max-window", get(inspect::max_window))
        .route("/__sim/tokens", get(inspect::tokens))
        .route("/__sim/sessions/expire", post(control::expire_sessions))
        .route(
            "/__sim/faults",
            get(control::get_faults)
                .put(control::set_faults)
                .delete(control::clear_faults),
        )
        .route(
            "/__sim/limits",
            get(control::get_limits).put(control::set_limits),
        )
        .route("/__sim/pubsub/gap", post(pubsub::gap))
        .route("/__sim/pubsub/cert", get(pubsub::cert))
}
