//! The fence fields (the mapping's `[fence]`, [`Fence`]) checked on every object a main write
//! goes to: the event time is a writable DateTime, the event id a writable text field, and an
//! active validation rule on the object names the event time as its error field — the rule
//! that refuses a write that landed late, and whose rejection the workers read as
//! "superseded". Without the rule the fields are written but nothing is fenced: a warning.

use std::collections::BTreeSet;

use salesforce_metadata::{FieldType, Metadata, ObjectMeta};

use super::{Problem, Report};
use crate::mapping::{Fence, Mapping, WriteRole};

/// Checks the fence fields of every object a main write of `mapping` goes to.
pub(super) fn check_fence(mapping: &Mapping, metadata: &Metadata, report: &mut Report) {
    let Some(fence) = mapping.fence() else {
        return;
    };
    let objects: BTreeSet<&str> = mapping
        .writes()
        .iter()
        .filter(|write| write.role == WriteRole::Main)
        .map(|write| write.sobject)
        .collect();
    for name in objects {
        // A missing object is reported with the write that names it.
        if let Some(object) = metadata.object(name) {
            check_object(fence, object, report);
        }
    }
}

fn check_object(fence: &Fence, object: &ObjectMeta, report: &mut Report) {
    let place = format!("fence, {}", object.name);
    let mut error = |message: String, file: &str| {
        report.errors.push(Problem {
            place: place.clone(),
            message,
            file: file.to_owned(),
        })
    };
    let wanted = [
        (&fence.event_time_field, "a DateTime"),
        (&fence.event_id_field, "a text"),
    ];
    for (name, kind) in wanted {
        let Some(field) = object.field(name) else {
            error(format!("{} has no field {name}", object.name), &object.file);
            continue;
        };
        let fits = match kind {
            "a DateTime" => field.kind == FieldType::DateTime,
            _ => field.kind.is_text(),
        };
        if !fits || !field.is_writable() {
            error(
                format!("{name} must be {kind} field the integration can write"),
                &field.file,
            );
        }
    }
    let fenced = object.validation_rules.iter().any(|rule| {
        rule.active
            && rule
                .error_display_field
                .as_deref()
                .is_some_and(|field| field.eq_ignore_ascii_case(&fence.event_time_field))
    });
    if !fenced {
        report.warnings.push(Problem {
            place,
            message: format!(
                "no active validation rule on {} shows its error on {}: a write that lands \
                 late can overwrite newer data (docs/mapping.md, \"Newest wins\")",
                object.name, fence.event_time_field
            ),
            file: format!(
                "{}/validationRules",
                object.file.rsplit_once('/').map_or("", |(dir, _)| dir)
            ),
        });
    }
}
