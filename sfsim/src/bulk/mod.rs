//! Bulk API 2.0 ingest under `/services/data/vNN.N/jobs/ingest` (docs/salesforce-api.md §5). Every
//! HTTP request to it counts as one API call (§5.7), like any other REST request.

pub mod csv;
pub mod handlers;
pub mod job;
pub mod processor;
pub mod results;

use axum::routing::{get, post, put};
use axum::Router;

use crate::state::AppState;

/// Routes under `/services/data/{version}/jobs/ingest`.
pub fn router() -> Router<AppState> {
    let base = "/services/data/{version}/jobs/ingest";
    Router::new()
        .route(base, post(handlers::create_job).get(handlers::list_jobs))
        .route(
            &format!("{base}/{{job_id}}"),
            get(handlers::job_info)
                .patch(handlers::set_state)
                .delete(handlers::delete_job),
        )
        .route(&format!("{base}/{{job_id}}/batches"), put(handlers::upload))
        .route(
            &format!("{base}/{{job_id}}/successfulResults"),
            get(handlers::successful_results),
        )
        .route(
            &format!("{base}/{{job_id}}/failedResults"),
            get(handlers::failed_results),
        )
        .route(
            &format!("{base}/{{job_id}}/unprocessedrecords"),
            get(handlers::unprocessed_records),
        )
        .route(
            &format!("{base}/{{job_id}}/unprocessedRecords"),
            get(handlers::unprocessed_records),
        )
}
