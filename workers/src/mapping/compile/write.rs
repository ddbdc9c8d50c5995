//! Validation of one `[[rule.write]]`: its role, target (and `otherwise` chain), fields, and
//! `for_each` / `delete_missing`, including where element paths (`$item`, `$previous`,
//! `$number`) may appear: only inside a write with `for_each`, never in the list's own path
//! or in `delete_missing`, which are read once per event.

use super::field::compile_field;
use super::{api_name, paths, Checked};
use crate::mapping::each::{DeleteMissingRule, EachRule};
use crate::mapping::field::{FieldRule, Source};
use crate::mapping::file::{RawDeleteMissing, RawTarget, RawWrite};
use crate::mapping::path::JsonPath;
use crate::mapping::record::WriteRole;
use crate::mapping::rule::WriteRule;
use crate::mapping::target::{TargetKind, TargetRule};
use crate::mapping::template::Template;

/// Validates a write; errors carry a place inside the write (empty for the write itself).
pub(super) fn compile_write(raw: RawWrite) -> Result<WriteRule, (String, String)> {
    let whole = |reason: String| (String::new(), reason);
    api_name(&raw.sobject).map_err(whole)?;
    let role = match raw.role.as_deref() {
        None | Some("main") => WriteRole::Main,
        Some("parent_stub") => WriteRole::ParentStub,
        Some(other) => {
            return Err(whole(format!(
                "role {other:?} is unknown (main, parent_stub)"
            )))
        }
    };
    let aspect = compile_aspect(raw.aspect.as_deref(), role).map_err(whole)?;
    let target = raw
        .target
        .ok_or_else(|| whole("no [rule.write.target]".into()))?;
    let target = compile_target(target).map_err(|reason| ("target".to_owned(), reason))?;
    let mut fields = Vec::new();
    for (name, raw_field) in raw.fields {
        let field =
            compile_field(&name, raw_field).map_err(|reason| (format!("field {name}"), reason))?;
        fields.push(field);
    }
    let each = compile_each(raw.for_each, raw.delete_missing, &target).map_err(whole)?;
    if each.is_none() {
        if let Some(path) = target_paths(&target).find(|p| p.is_element_path()) {
            return Err(("target".into(), element_outside_for_each(path)));
        }
        for field in &fields {
            if let Some(path) = field_paths(field).find(|p| p.is_element_path()) {
                return Err((
                    format!("field {}", field.name),
                    element_outside_for_each(path),
                ));
            }
        }
    }
    Ok(WriteRule {
        sobject: raw.sobject,
        role,
        aspect,
        optional: raw.optional,
        target,
        fields,
        each,
    })
}

/// An aspect is a lower-case name (`subscription_status`), and only main writes have one:
/// a parent stub writes no fields to order.
fn compile_aspect(aspect: Option<&str>, role: WriteRole) -> Result<Option<String>, String> {
    let Some(aspect) = aspect else {
        return Ok(None);
    };
    if role == WriteRole::ParentStub {
        return Err("a parent stub has no aspect (it writes only the key)".into());
    }
    let valid = aspect.starts_with(|c: char| c.is_ascii_lowercase())
        && aspect
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        return Err(format!(
            "aspect {aspect:?} is not a lower-case name (letters, digits, _)"
        ));
    }
    Ok(Some(aspect.to_owned()))
}

fn element_outside_for_each(path: &JsonPath) -> String {
    format!("`{path}` starts at a list element: only a write with `for_each` has one")
}

fn compile_each(
    for_each: Option<String>,
    delete_missing: Option<RawDeleteMissing>,
    target: &TargetRule,
) -> Checked<Option<EachRule>> {
    let Some(list) = for_each else {
        return match delete_missing {
            Some(_) => Err("`delete_missing` needs `for_each`".into()),
            None => Ok(None),
        };
    };
    let list = JsonPath::parse(&list).map_err(|e| format!("for_each: {e}"))?;
    if list.is_element_path() {
        return Err(format!("for_each: `{list}` must be a path in the event"));
    }
    let delete_missing = match delete_missing {
        None => None,
        Some(raw) => {
            let external = matches!(target.kind, TargetKind::ExternalId(_));
            if !external || target.otherwise.is_some() {
                return Err("`delete_missing` needs an external_id target without `otherwise`: the records are told apart by that key".into());
            }
            let (relationship, field) = raw.field.split_once('.').unwrap_or(("", &raw.field));
            if !relationship.is_empty() {
                api_name(relationship).map_err(|e| format!("delete_missing.field: {e}"))?;
            }
            api_name(field).map_err(|e| format!("delete_missing.field: {e}"))?;
            let paths = paths(Some(raw.path), raw.fallback_paths)
                .map_err(|e| format!("delete_missing: {e}"))?
                .unwrap_or_default();
            if let Some(path) = paths.iter().find(|p| p.is_element_path()) {
                return Err(format!(
                    "delete_missing: `{path}` must be a path in the event"
                ));
            }
            Some(DeleteMissingRule {
                field: raw.field,
                paths,
            })
        }
    };
    Ok(Some(EachRule {
        list,
        delete_missing,
    }))
}

pub(super) fn compile_target(raw: RawTarget) -> Checked<TargetRule> {
    let kind = match (raw.external_id, raw.query, raw.query_all, raw.salesforce_id) {
        (Some(field), None, None, None) => TargetKind::ExternalId(api_name(&field).map(|_| field)?),
        (None, Some(field), None, None) => TargetKind::Query(api_name(&field).map(|_| field)?),
        (None, None, Some(field), None) => TargetKind::QueryAll(api_name(&field).map(|_| field)?),
        (None, None, None, Some(true)) => TargetKind::SalesforceId,
        (None, None, None, Some(false)) => {
            return Err("salesforce_id must be true when given".into())
        }
        _ => {
            return Err(
                "give exactly one of external_id, query, query_all, salesforce_id = true".into(),
            )
        }
    };
    let paths = paths(raw.path, raw.fallback_paths)?;
    let (paths, template) = match (paths, raw.template) {
        (Some(paths), None) => (paths, None),
        (None, Some(text)) => (Vec::new(), Some(Template::parse(&text)?)),
        (Some(_), Some(_)) => return Err("give either `path` or `template`, not both".into()),
        (None, None) => return Err("the target needs a `path` (or a `template`)".into()),
    };
    let otherwise = match raw.otherwise {
        Some(_) if matches!(kind, TargetKind::QueryAll(_)) => {
            return Err(
                "a query_all target takes no `otherwise`: finding no record is not an error".into(),
            )
        }
        Some(next) => Some(Box::new(
            compile_target(*next).map_err(|e| format!("otherwise: {e}"))?,
        )),
        None if kind == TargetKind::SalesforceId => {
            return Err(
                "a salesforce_id target needs an `otherwise` for events without an id".into(),
            )
        }
        None => None,
    };
    Ok(TargetRule {
        kind,
        paths,
        template,
        otherwise,
    })
}

/// Every path a target chain reads.
fn target_paths(target: &TargetRule) -> Box<dyn Iterator<Item = &JsonPath> + '_> {
    let own = target
        .paths
        .iter()
        .chain(target.template.iter().flat_map(Template::paths));
    match &target.otherwise {
        Some(next) => Box::new(own.chain(target_paths(next))),
        None => Box::new(own),
    }
}

/// Every path a field reads.
fn field_paths(field: &FieldRule) -> impl Iterator<Item = &JsonPath> {
    let source: Vec<&JsonPath> = match &field.source {
        Source::Paths(paths) => paths.iter().collect(),
        Source::Template(template) => template.paths().collect(),
        Source::Constant(_) => Vec::new(),
    };
    source
        .into_iter()
        .chain(field.currency_path.iter())
        .chain(field.multiply_path.iter())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_aspect_is_a_lower_case_name_on_a_main_write() {
        assert_eq!(
            compile_aspect(Some("subscription_status"), WriteRole::Main),
            Ok(Some("subscription_status".to_owned()))
        );
        assert_eq!(compile_aspect(None, WriteRole::ParentStub), Ok(None));
        for bad in ["Status", "1st", "a-b", ""] {
            let error = compile_aspect(Some(bad), WriteRole::Main).expect_err(bad);
            assert!(error.contains("lower-case name"), "{error}");
        }
        let stub = compile_aspect(Some("x"), WriteRole::ParentStub).expect_err("stub");
        assert!(stub.contains("parent stub"), "{stub}");
    }
}
