//! `GET /query?q=`, `/queryAll?q=` and the `nextRecordsUrl` locators (docs/salesforce-api.md §6.1).
//!
//! A result larger than the batch size is kept as a cursor; pages are served at both
//! `/query/{locator}-{offset}` and `/queryAll/{locator}-{offset}` (jsforce builds the
//! former even for queryAll). Cursors live until reset (the real ones last 2 days).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Extension, Path, Query as QueryParams, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{json_response, ApiError};
use crate::gate::RequestContext;
use crate::ids;
use crate::soql::{exec, parser};
use crate::state::AppState;

/// Smallest and largest `batchSize` of `Sforce-Query-Options` (§2.2).
const BATCH_SIZE_RANGE: (usize, usize) = (200, 2000);

/// Results waiting to be paged through, by locator.
#[derive(Debug, Default)]
pub struct QueryCursors {
    cursors: Mutex<HashMap<String, Arc<Vec<Value>>>>,
}

impl QueryCursors {
    /// Forgets every cursor.
    pub fn clear(&self) {
        self.cursors.lock().clear();
    }
}

/// The `?q=` query parameter: the SOQL text.
#[derive(Debug, Deserialize)]
pub struct SoqlParam {
    q: Option<String>,
}

/// Path parameter of `/query/{locator}`: the cursor of the next page (§6).
#[derive(Debug, Deserialize)]
pub struct LocatorPath {
    locator: String,
}

fn batch_size(state: &AppState, headers: &HeaderMap) -> usize {
    headers
        .get("sforce-query-options")
        .and_then(|value| value.to_str().ok())
        .and_then(|options| {
            options.split(',').find_map(|option| {
                let (key, value) = option.split_once('=')?;
                (key.trim().eq_ignore_ascii_case("batchSize")).then(|| value.trim().parse().ok())?
            })
        })
        .map(|size: usize| size.clamp(BATCH_SIZE_RANGE.0, BATCH_SIZE_RANGE.1))
        .unwrap_or(state.config.query_batch_size)
}

/// `GET /query?q=...` and `GET /queryAll?q=...` (deleted records are not kept, so both
/// return the same rows).
pub async fn query(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    headers: HeaderMap,
    QueryParams(params): QueryParams<SoqlParam>,
) -> Result<Response, ApiError> {
    let soql = params.q.unwrap_or_default();
    if soql.trim().is_empty() {
        return Err(ApiError::bad_request(
            "MALFORMED_QUERY",
            "A query string has to be specified",
        ));
    }
    let parsed =
        parser::parse(&state.schema, &soql).map_err(|error| error.into_api_error(&soql))?;
    let (total, rows) = {
        let db = state.db.lock();
        exec::run(&parsed, &db, ctx.api_version)
    };
    let batch = batch_size(&state, &headers);
    if rows.len() <= batch {
        return Ok(json_response(
            StatusCode::OK,
            &json!({"totalSize": total, "done": true, "records": rows}),
        ));
    }
    let locator = state.ids.next(ids::QUERY_LOCATOR_PREFIX)[..15].to_string();
    let rows = Arc::new(rows);
    state
        .cursors
        .cursors
        .lock()
        .insert(locator.clone(), rows.clone());
    Ok(page(&ctx, &locator, &rows, 0, batch))
}

/// `GET /query/{locator}-{offset}` (and under `/queryAll/`).
pub async fn more(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    headers: HeaderMap,
    Path(path): Path<LocatorPath>,
) -> Result<Response, ApiError> {
    let invalid = || ApiError::bad_request("INVALID_QUERY_LOCATOR", "invalid query locator");
    let (locator, offset) = path.locator.rsplit_once('-').ok_or_else(invalid)?;
    let offset: usize = offset.parse().map_err(|_| invalid())?;
    let rows = state
        .cursors
        .cursors
        .lock()
        .get(locator)
        .cloned()
        .ok_or_else(invalid)?;
    if offset > rows.len() {
        return Err(invalid());
    }
    Ok(page(
        &ctx,
        locator,
        &rows,
        offset,
        batch_size(&state, &headers),
    ))
}

fn page(
    ctx: &RequestContext,
    locator: &str,
    rows: &[Value],
    offset: usize,
    batch: usize,
) -> Response {
    let end = (offset + batch).min(rows.len());
    let mut body =
        json!({"totalSize": rows.len(), "done": end >= rows.len(), "records": &rows[offset..end]});
    if end < rows.len() {
        body["nextRecordsUrl"] = Value::String(format!(
            "/services/data/v{}.0/query/{locator}-{end}",
            ctx.api_version
        ));
    }
    json_response(StatusCode::OK, &body)
}
