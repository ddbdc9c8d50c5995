//! Single-record REST: create, get, update, delete by id; get, upsert and delete by
//! external id (docs/salesforce-api.md §3).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::dml::{apply_batch, OpError, OpResult, WriteContext, WriteOp};
use crate::error::{json_response, ApiError, RecordError};
use crate::gate::RequestContext;
use crate::ids;
use crate::rest::body::{parse_json, record_input, record_json, record_url};
use crate::schema::{FieldDef, ObjectDef};
use crate::state::AppState;

/// Path parameters of `/sobjects/{object}` (create).
#[derive(Debug, Deserialize)]
pub struct ObjectPath {
    object: String,
}

/// Path parameters of `/sobjects/{object}/{id}` (read, update, delete by id).
#[derive(Debug, Deserialize)]
pub struct RecordPath {
    object: String,
    id: String,
}

/// Path parameters of `/sobjects/{object}/{field}/{value}` (by external id, §3.1).
#[derive(Debug, Deserialize)]
pub struct ExternalPath {
    object: String,
    field: String,
    value: String,
}

/// `?updateOnly=true` on upsert (§3.1).
#[derive(Debug, Deserialize)]
pub struct UpsertParams {
    #[serde(rename = "updateOnly", default)]
    update_only: bool,
}

/// The object named in the path, or 404.
pub fn object_of(state: &AppState, name: &str) -> Result<Arc<ObjectDef>, ApiError> {
    state
        .schema
        .object(name)
        .cloned()
        .ok_or_else(ApiError::not_found)
}

/// The match field named in an upsert path: 404 if it does not exist (§3.3, captured
/// wording), 400 `INVALID_FIELD` if it is not an external id (a guess, §3.3).
pub fn match_field<'a>(object: &'a ObjectDef, name: &str) -> Result<&'a FieldDef, ApiError> {
    let field = object.field(name).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("Provided external ID field does not exist or is not accessible: {name}"),
        )
    })?;
    if !field.matchable {
        return Err(ApiError::bad_request(
            "INVALID_FIELD",
            format!(
                "Field name provided, {} is not an External ID or indexed field for {}",
                field.name, object.name
            ),
        ));
    }
    Ok(field)
}

fn write_context<'a>(state: &'a AppState, ctx: &'a RequestContext) -> WriteContext<'a> {
    WriteContext {
        schema: &state.schema,
        ids: &state.ids,
        request_id: &ctx.request_id,
        api: ctx.endpoint,
        lock_row_rate: state.faults.lock_row_rate(),
        events: &state.events,
        user_id: &ctx.user_id,
        enclosing: ctx.transaction.as_deref(),
    }
}

fn body_object(body: &[u8]) -> Result<serde_json::Map<String, Value>, ApiError> {
    match parse_json(body)? {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::json_parser(
            "Cannot deserialize instance of sObject from START_ARRAY value [ or request may be missing a required field at [line:1, column:1]",
        )),
    }
}

fn single(mut results: Vec<OpResult>) -> Result<(String, bool), ApiError> {
    let result = results.pop().ok_or_else(ApiError::not_found)?;
    match result.outcome {
        Ok(()) => Ok((result.id.unwrap_or_default(), result.created)),
        Err(OpError::Record(error)) => Err(error.into()),
        Err(OpError::MultipleMatches(_)) => Err(ApiError::not_found()),
    }
}

fn created_response(version: u32, object: &str, id: &str, with_created: Option<bool>) -> Response {
    let mut body = json!({"id": id, "success": true, "errors": []});
    if let Some(created) = with_created {
        body["created"] = Value::Bool(created);
    }
    let mut response = json_response(StatusCode::CREATED, &body);
    if let Ok(location) = HeaderValue::from_str(&record_url(version, object, id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// `POST /sobjects/{object}` → 201 `{id, success, errors}` with `Location` (§3.5).
pub async fn create(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(path): Path<ObjectPath>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let object = object_of(&state, &path.object)?;
    let input = record_input(&state.schema, &object, &body_object(&body)?, &[])?;
    let op = WriteOp::Insert {
        object: object.clone(),
        input,
    };
    let results = apply_batch(
        &mut state.db.lock(),
        &write_context(&state, &ctx),
        vec![op],
        false,
    );
    let (id, _) = single(results)?;
    Ok(created_response(ctx.api_version, &object.name, &id, None))
}

/// Resolves a path id of `object`: 404 when it cannot be an id or does not exist, 400
/// `MALFORMED_ID` when it is an id of another object.
fn path_id(state: &AppState, object: &ObjectDef, id: &str) -> Result<String, ApiError> {
    let Some(canonical) = ids::normalize(id) else {
        return Err(ApiError::not_found());
    };
    if !canonical.starts_with(&object.key_prefix) {
        return Err(RecordError::new(
            "MALFORMED_ID",
            format!("{} ID: id value of incorrect type: {id}", object.label),
            vec!["Id".to_string()],
        )
        .into());
    }
    let db = state.db.lock();
    if db.get(&object.name, &canonical).is_some() {
        Ok(canonical)
    } else if db.was_deleted(&canonical) {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "ENTITY_IS_DELETED",
            "entity is deleted",
        ))
    } else {
        Err(ApiError::not_found())
    }
}

/// `GET /sobjects/{object}/{id}`.
pub async fn get_by_id(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(path): Path<RecordPath>,
) -> Result<Response, ApiError> {
    let object = object_of(&state, &path.object)?;
    let id = path_id(&state, &object, &path.id)?;
    let db = state.db.lock();
    let record = db.get(&object.name, &id).ok_or_else(ApiError::not_found)?;
    Ok(json_response(
        StatusCode::OK,
        &record_json(&object, record, ctx.api_version),
    ))
}

/// `PATCH /sobjects/{object}/{id}` → 204 (§3.5).
pub async fn update(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(path): Path<RecordPath>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let object = object_of(&state, &path.object)?;
    let id = path_id(&state, &object, &path.id)?;
    let input = record_input(&state.schema, &object, &body_object(&body)?, &["id"])?;
    let op = WriteOp::Update { object, id, input };
    single(apply_batch(
        &mut state.db.lock(),
        &write_context(&state, &ctx),
        vec![op],
        false,
    ))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /sobjects/{object}/{id}` → 204.
pub async fn delete(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(path): Path<RecordPath>,
) -> Result<Response, ApiError> {
    let object = object_of(&state, &path.object)?;
    let id = path_id(&state, &object, &path.id)?;
    let op = WriteOp::Delete { object, id };
    single(apply_batch(
        &mut state.db.lock(),
        &write_context(&state, &ctx),
        vec![op],
        false,
    ))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// 300 Multiple Choices with the matching records' URLs (§3.2).
fn multiple_choices(version: u32, object: &str, ids: &[String]) -> Response {
    let urls: Vec<String> = ids
        .iter()
        .map(|id| record_url(version, object, id))
        .collect();
    json_response(StatusCode::MULTIPLE_CHOICES, &urls)
}

/// `GET /sobjects/{object}/{field}/{value}` (§3.5).
pub async fn get_by_external_id(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(path): Path<ExternalPath>,
) -> Result<Response, ApiError> {
    let object = object_of(&state, &path.object)?;
    let field = match_field(&object, &path.field)?;
    let db = state.db.lock();
    let found = db.find_by(&object.name, field, &path.value);
    match found.as_slice() {
        [] => Err(ApiError::not_found()),
        [id] => {
            let record = db.get(&object.name, id).ok_or_else(ApiError::not_found)?;
            Ok(json_response(
                StatusCode::OK,
                &record_json(&object, record, ctx.api_version),
            ))
        }
        many => Ok(multiple_choices(ctx.api_version, &object.name, many)),
    }
}

/// `PATCH /sobjects/{object}/{field}/{value}`: 201 created, 200 updated with
/// `created:false` (v46+; 204 before), 300 for several matches (§3.2). With
/// `updateOnly=true` and no match the answer is 404 `NOT_FOUND` (a guess, §3.1).
pub async fn upsert(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(path): Path<ExternalPath>,
    Query(params): Query<UpsertParams>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let object = object_of(&state, &path.object)?;
    let field = match_field(&object, &path.field)?;
    let input = record_input(&state.schema, &object, &body_object(&body)?, &[])?;
    let key_field = field.name.clone();
    let results = {
        let mut db = state.db.lock();
        if params.update_only && db.find_by(&object.name, field, &path.value).is_empty() {
            return Err(ApiError::not_found());
        }
        let op = WriteOp::Upsert {
            object: object.clone(),
            key_field,
            key: path.value.clone(),
            input,
        };
        apply_batch(&mut db, &write_context(&state, &ctx), vec![op], false)
    };
    if let Some(OpResult {
        outcome: Err(OpError::MultipleMatches(ids)),
        ..
    }) = results.first()
    {
        return Ok(multiple_choices(ctx.api_version, &object.name, ids));
    }
    let (id, created) = single(results)?;
    let modern = ctx.api_version >= 46;
    Ok(match (created, modern) {
        (true, _) => created_response(ctx.api_version, &object.name, &id, modern.then_some(true)),
        (false, true) => json_response(
            StatusCode::OK,
            &json!({"id": id, "success": true, "errors": [], "created": false}),
        ),
        (false, false) => StatusCode::NO_CONTENT.into_response(),
    })
}

/// `DELETE /sobjects/{object}/{field}/{value}` → 204.
pub async fn delete_by_external_id(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(path): Path<ExternalPath>,
) -> Result<Response, ApiError> {
    let object = object_of(&state, &path.object)?;
    let field = match_field(&object, &path.field)?;
    let mut db = state.db.lock();
    let found = db.find_by(&object.name, field, &path.value);
    let id = match found.as_slice() {
        [] => return Err(ApiError::not_found()),
        [id] => id.clone(),
        many => return Ok(multiple_choices(ctx.api_version, &object.name, many)),
    };
    let op = WriteOp::Delete { object, id };
    single(apply_batch(
        &mut db,
        &write_context(&state, &ctx),
        vec![op],
        false,
    ))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Shared with Collections.
pub(crate) fn context<'a>(state: &'a AppState, ctx: &'a RequestContext) -> WriteContext<'a> {
    write_context(state, ctx)
}
