//! sObject Collections: create, update, upsert (≤ 200 records, `allOrNone`) and delete
//! (docs/salesforce-api.md §4.1, §4.2). The whole request is one API call; results come back in
//! request order with `statusCode` errors per record.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::dml::{apply_batch, OpError, OpResult, WriteOp};
use crate::error::{json_response, ApiError, RecordError};
use crate::gate::RequestContext;
use crate::rest::body::{parse_json, record_input};
use crate::rest::sobjects::{context, match_field, object_of};
use crate::state::AppState;
use crate::store::match_key;
use crate::values;

/// Most records one Collections request may carry.
pub const MAX_RECORDS: usize = 200;
/// Most type chunks (type changes + 1) of a create or update request (§4.2).
pub const MAX_TYPE_CHUNKS: usize = 10;

/// Path parameters of `/composite/sobjects/{object}/{field}` (Collections upsert, §4.1).
#[derive(Debug, Deserialize)]
pub struct UpsertPath {
    object: String,
    field: String,
}

/// `?ids=...&allOrNone=...` of a Collections delete.
#[derive(Debug, Deserialize)]
pub struct DeleteParams {
    #[serde(default)]
    ids: String,
    #[serde(rename = "allOrNone", default)]
    all_or_none: bool,
}

struct CollectionBody {
    all_or_none: bool,
    records: Vec<Map<String, Value>>,
}

fn parse_body(body: &[u8]) -> Result<CollectionBody, ApiError> {
    let mut value = parse_json(body)?;
    let all_or_none = value
        .get("allOrNone")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let records = match value.get_mut("records").map(Value::take) {
        Some(Value::Array(records)) => records,
        _ => return Err(ApiError::json_parser(
            "Cannot deserialize instance of the request body: 'records' is missing or not an array",
        )),
    };
    if records.len() > MAX_RECORDS {
        return Err(ApiError::bad_request(
            "EXCEEDED_ID_LIMIT",
            "record limit reached. cannot submit more than 200 records into this call",
        ));
    }
    let records = records
        .into_iter()
        .map(|record| match record {
            Value::Object(map) => Ok(map),
            _ => Err(ApiError::json_parser(
                "Cannot deserialize instance of sObject from a non-object value",
            )),
        })
        .collect::<Result<_, _>>()?;
    Ok(CollectionBody {
        all_or_none,
        records,
    })
}

/// `attributes.type` of a record; every Collections record needs it (§4.1). A record
/// without one fails the request (the exact error is unverified).
fn record_type(record: &Map<String, Value>) -> Result<String, ApiError> {
    record
        .get("attributes")
        .and_then(|attributes| attributes.get("type"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| {
            ApiError::bad_request(
                "INVALID_TYPE",
                "Must specify a type in the attributes of each record",
            )
        })
}

fn field_ci<'a>(record: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    record
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

fn result_json(result: &OpResult, with_created: bool) -> Value {
    let mut item = match &result.outcome {
        Ok(()) => json!({"id": result.id, "success": true, "errors": []}),
        Err(error) => {
            let error = match error {
                OpError::Record(error) => error.clone(),
                OpError::MultipleMatches(ids) => multiple_matches(ids),
            };
            let mut item = json!({"success": false, "errors": [error]});
            if let Some(id) = &result.id {
                item["id"] = Value::String(id.clone());
            }
            item
        }
    };
    // Always present on upsert results, also on failed items (§4.1 conflict; JSF-LIVE).
    if with_created {
        item["created"] = Value::Bool(result.created);
    }
    item
}

/// Several records match one external id inside a Collections upsert (§4.1, unverified).
fn multiple_matches(ids: &[String]) -> RecordError {
    RecordError::new(
        "DUPLICATE_EXTERNAL_ID",
        format!(
            "more than one record found for external id field: [{}]",
            ids.join(", ")
        ),
        Vec::new(),
    )
}

fn type_chunks(types: &[String]) -> usize {
    types
        .windows(2)
        .filter(|pair| !pair[0].eq_ignore_ascii_case(&pair[1]))
        .count()
        + usize::from(!types.is_empty())
}

fn respond(results: &[OpResult], with_created: bool) -> Response {
    let items: Vec<Value> = results
        .iter()
        .map(|result| result_json(result, with_created))
        .collect();
    json_response(StatusCode::OK, &items)
}

fn require_version(ctx: &RequestContext, minimum: u32) -> Result<(), ApiError> {
    if ctx.api_version < minimum {
        return Err(ApiError::not_found());
    }
    Ok(())
}

/// `POST /composite/sobjects` (v42+): create records, possibly of several types.
pub async fn create(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    body: Bytes,
) -> Result<Response, ApiError> {
    require_version(&ctx, 42)?;
    let (body, types) = parse_mixed_body(&body)?;
    let mut ops = Vec::with_capacity(body.records.len());
    for (record, type_name) in body.records.iter().zip(&types) {
        let object = object_of(&state, type_name)?;
        if field_ci(record, "id").is_some_and(|id| !id.is_null()) {
            ops.push(WriteOp::Rejected(RecordError::new(
                "INVALID_FIELD",
                "cannot specify Id in an insert call",
                vec!["Id".into()],
            )));
            continue;
        }
        let input = record_input(&state.schema, &object, record, &[])?;
        ops.push(WriteOp::Insert { object, input });
    }
    let results = apply_batch(
        &mut state.db.lock(),
        &context(&state, &ctx),
        ops,
        body.all_or_none,
    );
    Ok(respond(&results, false))
}

/// Parses a create or update body, whose records may be of several types, and checks the
/// limit on type chunks. Returns the body and each record's type.
fn parse_mixed_body(body: &[u8]) -> Result<(CollectionBody, Vec<String>), ApiError> {
    let body = parse_body(body)?;
    let types = body
        .records
        .iter()
        .map(record_type)
        .collect::<Result<Vec<_>, _>>()?;
    check_chunks(&types)?;
    Ok((body, types))
}

fn check_chunks(types: &[String]) -> Result<(), ApiError> {
    if type_chunks(types) > MAX_TYPE_CHUNKS {
        // The limit is documented (§4.2); the error code is a guess.
        return Err(ApiError::bad_request(
            "INVALID_BATCH_REQUEST",
            "A request may contain at most 10 chunks of records of the same type",
        ));
    }
    Ok(())
}

/// `PATCH /composite/sobjects` (v42+): update records by `id`.
pub async fn update(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    body: Bytes,
) -> Result<Response, ApiError> {
    require_version(&ctx, 42)?;
    let (body, types) = parse_mixed_body(&body)?;
    let mut ops = Vec::with_capacity(body.records.len());
    for (record, type_name) in body.records.iter().zip(&types) {
        let object = object_of(&state, type_name)?;
        let Some(id) = field_ci(record, "id").and_then(Value::as_str) else {
            ops.push(WriteOp::Rejected(RecordError::new(
                "MISSING_ARGUMENT",
                "Id not specified in an update call",
                Vec::new(),
            )));
            continue;
        };
        let input = record_input(&state.schema, &object, record, &["id"])?;
        ops.push(WriteOp::Update {
            object,
            id: id.to_string(),
            input,
        });
    }
    let results = apply_batch(
        &mut state.db.lock(),
        &context(&state, &ctx),
        ops,
        body.all_or_none,
    );
    Ok(respond(&results, false))
}

/// `PATCH /composite/sobjects/{object}/{field}` (v46+): upsert by external id.
pub async fn upsert(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(path): Path<UpsertPath>,
    body: Bytes,
) -> Result<Response, ApiError> {
    require_version(&ctx, 46)?;
    let object = object_of(&state, &path.object)?;
    let field = match_field(&object, &path.field)?;
    let body = parse_body(&body)?;
    for record in &body.records {
        let type_name = record_type(record)?;
        if !type_name.eq_ignore_ascii_case(&object.name) {
            return Err(ApiError::bad_request(
                "INVALID_TYPE",
                format!(
                    "All records must be of the type in the URL: {}",
                    object.name
                ),
            ));
        }
    }
    let keys: Vec<Option<String>> = body
        .records
        .iter()
        .map(|record| {
            field_ci(record, &field.name)
                .filter(|v| !v.is_null())
                .map(values::as_text)
        })
        .collect();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for key in keys.iter().flatten() {
        *seen.entry(match_key(field, key)).or_default() += 1;
    }
    let mut ops = Vec::with_capacity(body.records.len());
    for (record, key) in body.records.iter().zip(&keys) {
        let Some(key) = key else {
            ops.push(WriteOp::Rejected(RecordError::new(
                "MISSING_ARGUMENT",
                format!("{} not specified", field.name),
                Vec::new(),
            )));
            continue;
        };
        // The same external id twice in one request fails both (unverified, §4.1).
        if seen.get(&match_key(field, key)).copied().unwrap_or(0) > 1 {
            ops.push(WriteOp::Rejected(RecordError::new(
                "DUPLICATE_EXTERNAL_ID",
                format!("Duplicate external id specified: {key}"),
                vec![field.name.clone()],
            )));
            continue;
        }
        let input = record_input(&state.schema, &object, record, &[])?;
        ops.push(WriteOp::Upsert {
            object: object.clone(),
            key_field: field.name.clone(),
            key: key.clone(),
            input,
        });
    }
    let results = apply_batch(
        &mut state.db.lock(),
        &context(&state, &ctx),
        ops,
        body.all_or_none,
    );
    Ok(respond(&results, true))
}

/// `DELETE /composite/sobjects?ids=a,b&allOrNone=false`.
pub async fn delete(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Query(params): Query<DeleteParams>,
) -> Result<Response, ApiError> {
    require_version(&ctx, 42)?;
    let ids: Vec<&str> = params
        .ids
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .collect();
    if ids.len() > MAX_RECORDS {
        return Err(ApiError::bad_request(
            "EXCEEDED_ID_LIMIT",
            "record limit reached. cannot submit more than 200 records into this call",
        ));
    }
    let ops = ids
        .iter()
        .map(|id| match state.schema.object_for_id(id) {
            Some(object) => WriteOp::Delete {
                object: object.clone(),
                id: (*id).to_string(),
            },
            None => WriteOp::Rejected(RecordError::new(
                "MALFORMED_ID",
                format!("malformed id {id}"),
                Vec::new(),
            )),
        })
        .collect();
    let results = apply_batch(
        &mut state.db.lock(),
        &context(&state, &ctx),
        ops,
        params.all_or_none,
    );
    Ok(respond(&results, false))
}
