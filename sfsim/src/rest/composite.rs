//! The Composite resource, `POST /services/data/vXX.X/composite` (docs/salesforce-api.md
//! §4.4): up to 25 subrequests in one call, at most 5 of them sObject Collections or
//! queries, later ones referring to earlier results with `@{refId.path}`
//! ([`super::references`]).
//!
//! The whole request passed the [gate](crate::gate) once: it is one API call, its latency
//! and faults apply once. Each subrequest then runs through the very handlers of the
//! standalone resources ([`super::subrequest_routes`], without the gate), so validation
//! rules, external-id upserts and change events behave as they do outside a Composite
//! request.
//!
//! `collateSubrequests` is read and ignored: the simulator always runs subrequests in request
//! order, which is what `false` guarantees and one of the orders `true` allows.
//! With `allOrNone` true, the subrequests' writes join one transaction
//! ([`crate::dml::WriteContext::enclosing`]) that is committed (change events published)
//! only when every subrequest succeeded; otherwise it is rolled back, the failed subrequest
//! keeps its error and every other one answers `PROCESSING_HALTED`. With `allOrNone` false,
//! a subrequest that references a failed (or unknown) one fails with `PROCESSING_HALTED`,
//! and the others run. An all-or-none request is not isolated from concurrent requests.

use std::sync::Arc;

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Extension, State};
use axum::http::{header, Method, Request, StatusCode};
use axum::response::Response;
use parking_lot::Mutex;
use serde_json::{json, Map, Value};
use tower::ServiceExt;

use crate::clock;
use crate::endpoints;
use crate::error::{json_response, ApiError};
use crate::gate::{self, RequestContext};
use crate::rest::body::parse_json;
use crate::rest::references::{resolve_body, resolve_text, Outputs};
use crate::rest::subrequest_routes;
use crate::state::AppState;
use crate::store::Txn;

/// Most subrequests of one Composite request (§4.4).
pub const MAX_SUBREQUESTS: usize = 25;
/// Most subrequests that are sObject Collections or query/queryAll operations (§4.4).
pub const MAX_COLLECTIONS_OR_QUERIES: usize = 5;
/// First API version with the Composite resource (§4.4).
pub const FIRST_VERSION: u32 = 38;

/// The text of a subrequest halted by another one's failure under `allOrNone` (§4.4).
const ROLLED_BACK: &str =
    "The transaction was rolled back since another operation in the same transaction failed.";

/// One subrequest as sent.
struct Subrequest {
    method: Method,
    url: String,
    reference_id: String,
    body: Option<Value>,
    headers: Map<String, Value>,
}

/// One subrequest's answer, as `compositeResponse` lists it.
struct SubResponse {
    reference_id: String,
    status: u16,
    body: Value,
    headers: Map<String, Value>,
}

impl SubResponse {
    fn failed(&self) -> bool {
        self.status >= 400
    }

    fn halted(reference_id: &str, message: &str) -> Self {
        Self {
            reference_id: reference_id.to_string(),
            status: 400,
            body: json!([{"errorCode": "PROCESSING_HALTED", "message": message}]),
            headers: Map::new(),
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "body": self.body,
            "httpHeaders": self.headers,
            "httpStatusCode": self.status,
            "referenceId": self.reference_id,
        })
    }
}

/// `POST /composite`.
pub async fn composite(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    body: Bytes,
) -> Result<Response, ApiError> {
    if ctx.api_version < FIRST_VERSION {
        return Err(ApiError::not_found());
    }
    let (all_or_none, subrequests) = parse_body(&body)?;
    if let Some(message) = limit_exceeded(&subrequests) {
        // The body seen from a real org (§4.4); the top-level status is unverified.
        let item = json!({
            "body": [{"errorCode": "LIMIT_EXCEEDED", "message": message}],
            "httpHeaders": {}, "httpStatusCode": 400, "referenceId": null,
        });
        return Ok(json_response(
            StatusCode::BAD_REQUEST,
            &json!({ "compositeResponse": [item] }),
        ));
    }
    let transaction = all_or_none.then(|| Arc::new(Mutex::new(Txn::default())));
    let router = subrequest_routes().with_state(state.clone());
    let mut outputs = Outputs::new();
    let mut responses: Vec<SubResponse> = Vec::with_capacity(subrequests.len());
    let mut failed_at = None;
    for (index, sub) in subrequests.into_iter().enumerate() {
        if failed_at.is_some() {
            responses.push(SubResponse::halted(&sub.reference_id, ROLLED_BACK));
            continue;
        }
        let response = match resolve(&sub, &outputs) {
            Ok((url, body)) => run(&router, &state, &ctx, &transaction, &sub, &url, body).await,
            Err(message) => SubResponse::halted(&sub.reference_id, &message),
        };
        let output = (!response.failed()).then(|| response.body.clone());
        outputs.insert(sub.reference_id.clone(), output);
        if all_or_none && response.failed() {
            failed_at = Some(index);
        }
        responses.push(response);
    }
    if let Some(transaction) = transaction {
        let txn = std::mem::take(&mut *transaction.lock());
        let mut db = state.db.lock();
        match failed_at {
            None => {
                let changes = db.commit(txn);
                state.events.publish(changes, clock::now_ms(), &ctx.user_id);
            }
            Some(failed) => {
                db.rollback(txn, |name| state.schema.object(name).cloned());
                for (index, response) in responses.iter_mut().enumerate() {
                    if index != failed {
                        *response = SubResponse::halted(&response.reference_id, ROLLED_BACK);
                    }
                }
            }
        }
    }
    let items: Vec<Value> = responses.iter().map(SubResponse::to_json).collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({ "compositeResponse": items }),
    ))
}

/// Reads the request body; a malformed one fails the whole request with 400 before any
/// subrequest runs (§4.4). Returns `allOrNone` and the subrequests.
fn parse_body(body: &[u8]) -> Result<(bool, Vec<Subrequest>), ApiError> {
    let value = parse_json(body)?;
    let all_or_none = value
        .get("allOrNone")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let Some(items) = value.get("compositeRequest").and_then(Value::as_array) else {
        return Err(ApiError::json_parser(
            "Cannot deserialize the request body: 'compositeRequest' is missing or not an array",
        ));
    };
    let mut subrequests = Vec::with_capacity(items.len());
    for item in items {
        let text = |name: &str| {
            item.get(name)
                .and_then(Value::as_str)
                .filter(|text| !text.is_empty())
                .ok_or_else(|| {
                    ApiError::json_parser(format!("Each subrequest needs a '{name}' string"))
                })
        };
        let method = Method::from_bytes(text("method")?.to_ascii_uppercase().as_bytes())
            .map_err(|_| ApiError::json_parser("Unknown subrequest method"))?;
        let reference_id = text("referenceId")?.to_string();
        if subrequests
            .iter()
            .any(|s: &Subrequest| s.reference_id == reference_id)
        {
            return Err(ApiError::json_parser(format!(
                "Duplicate referenceId: {reference_id}"
            )));
        }
        subrequests.push(Subrequest {
            method,
            url: text("url")?.to_string(),
            reference_id,
            body: item.get("body").filter(|body| !body.is_null()).cloned(),
            headers: item
                .get("httpHeaders")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        });
    }
    Ok((all_or_none, subrequests))
}

/// The `LIMIT_EXCEEDED` message when the request asks for too much (§4.4).
fn limit_exceeded(subrequests: &[Subrequest]) -> Option<String> {
    if subrequests.len() > MAX_SUBREQUESTS {
        return Some(format!(
            "The request can’t contain more than {MAX_SUBREQUESTS} operations."
        ));
    }
    let heavy = subrequests
        .iter()
        .filter(|sub| {
            let path = sub.url.split('?').next().unwrap_or_default();
            let name = endpoints::classify(&sub.method, path);
            name.starts_with("collections.") || name.starts_with("query")
        })
        .count();
    (heavy > MAX_COLLECTIONS_OR_QUERIES).then(|| {
        format!(
            "The request can’t contain more than {MAX_COLLECTIONS_OR_QUERIES} sObject Collections or query operations."
        )
    })
}

/// The subrequest's url and body with its references replaced, or the message of a
/// reference that names nothing.
fn resolve(sub: &Subrequest, outputs: &Outputs) -> Result<(String, Option<Value>), String> {
    let url = resolve_text(&sub.url, outputs).map_err(|e| e.message())?;
    let body = match &sub.body {
        Some(body) => Some(resolve_body(body, outputs).map_err(|e| e.message())?),
        None => None,
    };
    Ok((url, body))
}

/// Runs one subrequest through the standalone handlers.
async fn run(
    router: &axum::Router,
    state: &AppState,
    ctx: &RequestContext,
    transaction: &Option<Arc<Mutex<Txn>>>,
    sub: &Subrequest,
    url: &str,
    body: Option<Value>,
) -> SubResponse {
    let path = url.split('?').next().unwrap_or_default();
    let api_version = match gate::api_version(path, state.config.latest_api_version) {
        Ok(version) if path.starts_with("/services/data/") => version,
        _ => return error_response(sub, ApiError::not_found()),
    };
    let mut request = Request::builder().method(sub.method.clone()).uri(url);
    for (name, value) in &sub.headers {
        if let Some(value) = value.as_str() {
            request = request.header(name.as_str(), value);
        }
    }
    let bytes = body.map(|b| b.to_string()).unwrap_or_default();
    let request = request
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(bytes));
    let Ok(mut request) = request else {
        return error_response(
            sub,
            ApiError::json_parser("Invalid subrequest url or header"),
        );
    };
    request.extensions_mut().insert(RequestContext {
        request_id: ctx.request_id.clone(),
        endpoint: endpoints::classify(&sub.method, path),
        api_version,
        user_id: ctx.user_id.clone(),
        transaction: transaction.clone(),
    });
    let Ok(response) = router.clone().oneshot(request).await;
    let status = response.status().as_u16();
    let mut headers = Map::new();
    if let Some(location) = response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
    {
        headers.insert("Location".into(), Value::String(location.to_string()));
    }
    let bytes = to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    SubResponse {
        reference_id: sub.reference_id.clone(),
        status,
        body,
        headers,
    }
}

fn error_response(sub: &Subrequest, error: ApiError) -> SubResponse {
    SubResponse {
        reference_id: sub.reference_id.clone(),
        status: error.status.as_u16(),
        body: serde_json::to_value(&error.items).unwrap_or(Value::Null),
        headers: Map::new(),
    }
}
