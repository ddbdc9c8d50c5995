//! Describe: `GET .../sobjects/` (Describe Global: every object with its basic properties)
//! and `GET .../sobjects/{Object}/describe` (one object with its fields), built from the
//! schema. Shapes follow Salesforce's DescribeGlobalResult and DescribeSObjectResult
//! (docs/salesforce-api.md §11); only properties the schema can answer are sent.

use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::error::{json_response, ApiError};
use crate::gate::RequestContext;
use crate::rest::sobjects::object_of;
use crate::schema::{FieldDef, FieldKind, NameKind, ObjectDef};
use crate::state::AppState;

/// Records per call of the SOAP/REST APIs, as Describe Global reports it.
const MAX_BATCH_SIZE: u32 = 200;

/// Path parameters of `/sobjects/{object}/describe`.
#[derive(Debug, Deserialize)]
pub struct DescribePath {
    object: String,
}

/// `GET /services/data/vNN.N/sobjects/`.
pub async fn global(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
) -> Response {
    let sobjects: Vec<Value> = state
        .schema
        .objects()
        .iter()
        .map(|object| Value::Object(basics(object, ctx.api_version)))
        .collect();
    json_response(
        StatusCode::OK,
        &json!({
            "encoding": "UTF-8",
            "maxBatchSize": MAX_BATCH_SIZE,
            "sobjects": sobjects,
        }),
    )
}

/// `GET /services/data/vNN.N/sobjects/{object}/describe`: 404 `NOT_FOUND` for an unknown
/// object.
pub async fn object(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(path): Path<DescribePath>,
) -> Result<Response, ApiError> {
    let object = object_of(&state, &path.object)?;
    let mut body = basics(&object, ctx.api_version);
    let fields: Vec<Value> = object
        .fields
        .iter()
        .map(|field| describe_field(&object, field))
        .collect();
    body.insert("fields".into(), Value::Array(fields));
    Ok(json_response(StatusCode::OK, &Value::Object(body)))
}

/// The properties Describe Global and sObject Describe share.
fn basics(object: &ObjectDef, version: u32) -> Map<String, Value> {
    let base = format!("/services/data/v{version}.0/sobjects/{}", object.name);
    let value = json!({
        "name": object.name,
        "label": object.label,
        "labelPlural": object.label_plural,
        "keyPrefix": object.key_prefix,
        "custom": object.name.ends_with("__c"),
        "customSetting": false,
        "createable": true,
        "updateable": true,
        "deletable": true,
        "queryable": true,
        "retrieveable": true,
        "searchable": false,
        "triggerable": false,
        "urls": {
            "sobject": base,
            "describe": format!("{base}/describe"),
            "rowTemplate": format!("{base}/{{ID}}"),
        },
    });
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Salesforce's describe type name (`FieldType`) of a field.
pub fn describe_type(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Id => "id",
        FieldKind::Text => "string",
        FieldKind::TextArea => "textarea",
        FieldKind::Email => "email",
        FieldKind::Phone => "phone",
        FieldKind::Url => "url",
        FieldKind::Picklist => "picklist",
        FieldKind::Currency => "currency",
        FieldKind::Number => "double",
        FieldKind::Percent => "percent",
        FieldKind::Boolean => "boolean",
        FieldKind::Date => "date",
        FieldKind::DateTime => "datetime",
        FieldKind::Lookup => "reference",
    }
}

fn describe_field(object: &ObjectDef, field: &FieldDef) -> Value {
    let numeric = field.kind.is_numeric();
    let is_name = field.name == "Name";
    let sized = !numeric
        && !matches!(
            field.kind,
            FieldKind::Boolean | FieldKind::Date | FieldKind::DateTime
        );
    let auto_number = is_name && matches!(object.name_kind, NameKind::AutoNumber { .. });
    let picklist: Vec<Value> = field
        .picklist
        .iter()
        .map(|value| {
            json!({
                "value": value,
                "label": value,
                "active": true,
                "defaultValue": false,
                "validFor": null,
            })
        })
        .collect();
    json!({
        "name": field.name,
        "label": field.label,
        "type": describe_type(field.kind),
        "soapType": soap_type(field.kind),
        "length": if sized { field.length } else { 0 },
        "precision": if numeric { field.precision } else { 0 },
        "scale": if numeric { field.scale } else { 0 },
        "digits": 0,
        "custom": field.name.ends_with("__c"),
        "externalId": field.external_id,
        "unique": field.unique,
        "caseSensitive": field.case_sensitive && field.kind != FieldKind::Id,
        "idLookup": field.matchable || is_name,
        "nameField": is_name,
        "autoNumber": auto_number,
        "calculated": false,
        "nillable": !field.required && field.createable && field.kind != FieldKind::Boolean,
        "defaultedOnCreate": !field.createable || field.kind == FieldKind::Boolean,
        "createable": field.createable,
        "updateable": field.updateable,
        "filterable": field.kind != FieldKind::TextArea,
        "sortable": field.kind != FieldKind::TextArea,
        "picklistValues": picklist,
        "restrictedPicklist": field.restricted,
        "referenceTo": field.reference_to.iter().collect::<Vec<_>>(),
        "relationshipName": field.relationship_name,
    })
}

/// The `soapType` Salesforce reports beside `type`.
fn soap_type(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Id | FieldKind::Lookup => "tns:ID",
        FieldKind::Currency | FieldKind::Number | FieldKind::Percent => "xsd:double",
        FieldKind::Boolean => "xsd:boolean",
        FieldKind::Date => "xsd:date",
        FieldKind::DateTime => "xsd:dateTime",
        _ => "xsd:string",
    }
}
