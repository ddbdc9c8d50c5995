//! `GET /services/data/` (the versions list: no session needed, not counted,
//! docs/salesforce-api.md §2.1), `GET /services/data/vNN.N/` (resources) and `GET .../limits`
//! (§2.8).

use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use crate::clock;
use crate::error::json_response;
use crate::gate::{RequestContext, OLDEST_LIVE_VERSION};
use crate::state::AppState;

/// The release name of an API version: 62.0 is Winter '25, three releases a year (§2.1).
pub fn release_label(version: u32) -> String {
    let offset = i64::from(version) - 62;
    let season = ["Winter", "Spring", "Summer"][offset.rem_euclid(3) as usize];
    format!("{season} '{:02}", 25 + offset.div_euclid(3))
}

/// `GET /services/data/`.
pub async fn versions(State(state): State<AppState>) -> Response {
    let list: Vec<Value> = (OLDEST_LIVE_VERSION..=state.config.latest_api_version)
        .map(|version| {
            json!({
                "label": release_label(version),
                "url": format!("/services/data/v{version}.0"),
                "version": format!("{version}.0"),
            })
        })
        .collect();
    json_response(StatusCode::OK, &list)
}

/// `GET /services/data/vNN.N/`.
pub async fn resources(Extension(ctx): Extension<RequestContext>) -> Response {
    let base = format!("/services/data/v{}.0", ctx.api_version);
    json_response(
        StatusCode::OK,
        &json!({
            "limits": format!("{base}/limits"),
            "sobjects": format!("{base}/sobjects"),
            "query": format!("{base}/query"),
            "queryAll": format!("{base}/queryAll"),
            "composite": format!("{base}/composite"),
            "jobs": format!("{base}/jobs"),
        }),
    )
}

/// `GET /services/data/vNN.N/limits`.
pub async fn limits(State(state): State<AppState>) -> Response {
    let (used, max) = state.daily.snapshot(clock::now_ms());
    let batches_max = state.config.bulk.daily_batch_limit;
    let batches_used = state.bulk_jobs.batches_used();
    json_response(
        StatusCode::OK,
        &json!({
            "ConcurrentAsyncGetReportInstances": {"Max": 200, "Remaining": 200},
            "DailyApiRequests": {"Max": max, "Remaining": max.saturating_sub(used)},
            "DailyBulkApiBatches": {"Max": batches_max, "Remaining": batches_max.saturating_sub(batches_used)},
            "DailyBulkV2QueryFileStorageMB": {"Max": 976_562, "Remaining": 976_562},
            "DailyBulkV2QueryJobs": {"Max": 10_000, "Remaining": 10_000},
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::release_label;

    #[test]
    fn labels() {
        assert_eq!(release_label(62), "Winter '25");
        assert_eq!(release_label(67), "Summer '26");
        assert_eq!(release_label(31), "Summer '14");
    }
}
