//! The REST API under `/services/data/`: versions, limits, describe, sObjects, Collections,
//! Composite, query, and (from [`crate::bulk`]) Bulk API 2.0 ingest. Everything versioned
//! passes the [`gate`](mod@crate::gate) first (a Composite request once, not per subrequest).

pub mod body;
pub mod collections;
pub mod composite;
pub mod describe;
pub mod query;
pub mod references;
pub mod sobjects;
pub mod versions;

use axum::middleware::from_fn_with_state;
use axum::routing::{get, patch, post};
use axum::Router;

use crate::bulk;
use crate::gate;
use crate::state::AppState;

/// The versioned REST routes (gated) and the versions list (not gated: no session, not
/// counted, docs/salesforce-api.md §2.1).
pub fn router(state: AppState) -> Router<AppState> {
    let v = "/services/data/{version}";
    let versioned = subrequest_routes()
        .route(v, get(versions::resources))
        .route(&format!("{v}/limits"), get(versions::limits))
        .route(&format!("{v}/composite"), post(composite::composite))
        .merge(bulk::router())
        .layer(from_fn_with_state(state.clone(), gate::rest_gate));
    let versions = Router::new()
        .route("/services/data", get(versions::versions))
        .layer(from_fn_with_state(state, gate::edge_gate));
    versioned.merge(versions)
}

/// The resources a Composite subrequest may name (docs/salesforce-api.md §4.4: sObject
/// resources, Collections, query and queryAll), without the gate: the Composite request
/// passed it once for all its subrequests.
pub fn subrequest_routes() -> Router<AppState> {
    let v = "/services/data/{version}";
    Router::new()
        .route(&format!("{v}/sobjects"), get(describe::global))
        .route(&format!("{v}/sobjects/{{object}}"), post(sobjects::create))
        .route(
            &format!("{v}/sobjects/{{object}}/describe"),
            get(describe::object),
        )
        .route(
            &format!("{v}/sobjects/{{object}}/{{id}}"),
            get(sobjects::get_by_id)
                .patch(sobjects::update)
                .delete(sobjects::delete),
        )
        .route(
            &format!("{v}/sobjects/{{object}}/{{field}}/{{value}}"),
            get(sobjects::get_by_external_id)
                .patch(sobjects::upsert)
                .delete(sobjects::delete_by_external_id),
        )
        .route(
            &format!("{v}/composite/sobjects"),
            post(collections::create)
                .patch(collections::update)
                .delete(collections::delete),
        )
        .route(
            &format!("{v}/composite/sobjects/{{object}}/{{field}}"),
            patch(collections::upsert),
        )
        .route(&format!("{v}/query"), get(query::query))
        .route(&format!("{v}/queryAll"), get(query::query))
        .route(&format!("{v}/query/{{locator}}"), get(query::more))
        .route(&format!("{v}/queryAll/{{locator}}"), get(query::more))
}
