//! Validation: from the file as written ([`super::file`]) to rules that cannot fail to run.
//!
//! Everything that can be checked without an event is checked here, once, at load time:
//! known transforms, paths that parse, API-name syntax, one rule per event type, stubs before
//! main writes, and combinations that make no sense (`money` without `currency_path`, `$item`
//! outside a `for_each` write). Each error names its place:
//! `rule for customer.created, write 1 (Stripe_Customer__c), field X`.

use std::collections::{BTreeMap, HashMap};

mod field;
mod write;

use super::error::MappingFileError;
use super::fence::Fence;
use super::file::{RawMapping, RawRule};
use super::path::JsonPath;
use super::record::WriteRole;
use super::rule::{EventRule, WriteRule};

use write::compile_write;

/// The validated content of a mapping file.
pub(crate) struct Compiled {
    pub rules: Vec<EventRule>,
    pub by_type: HashMap<String, usize>,
    pub exponents: BTreeMap<String, u32>,
    pub fence: Option<Fence>,
}

pub(super) type Checked<T> = Result<T, String>;

/// Validates a whole file.
pub(crate) fn compile(raw: RawMapping) -> Result<Compiled, MappingFileError> {
    let invalid = |location: &str, reason: String| MappingFileError::Invalid {
        location: location.to_owned(),
        reason,
    };
    if let Some(version) = raw.version.filter(|v| *v != 1) {
        return Err(invalid(
            "version",
            format!("{version} is not supported (only 1)"),
        ));
    }
    let mut exponents = BTreeMap::new();
    for (code, exponent) in raw.currency_exponents {
        let location = format!("currency_exponents.{code}");
        if code.len() != 3 || !code.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(invalid(
                &location,
                "not a 3-letter ISO currency code".into(),
            ));
        }
        if exponent > 4 {
            return Err(invalid(
                &location,
                format!("{exponent} decimals (0 to 4 allowed)"),
            ));
        }
        exponents.insert(code.to_ascii_lowercase(), exponent);
    }
    let fence = match raw.fence {
        Some(fence) => {
            for field in [&fence.event_time_field, &fence.event_id_field] {
                api_name(field).map_err(|reason| invalid("fence", reason))?;
            }
            if fence
                .event_time_field
                .eq_ignore_ascii_case(&fence.event_id_field)
            {
                return Err(invalid("fence", "the two fields must differ".into()));
            }
            Some(Fence {
                event_time_field: fence.event_time_field,
                event_id_field: fence.event_id_field,
            })
        }
        None => None,
    };
    if raw.rules.is_empty() {
        return Err(invalid(
            "file",
            "no [[rule]] at all: the mapping would handle nothing".into(),
        ));
    }
    let mut rules = Vec::new();
    let mut by_type = HashMap::new();
    for (index, raw_rule) in raw.rules.into_iter().enumerate() {
        let location = rule_location(index, &raw_rule);
        let rule = compile_rule(raw_rule)
            .map_err(|(place, reason)| invalid(&within(&location, place), reason))?;
        for event in &rule.events {
            if by_type.insert(event.clone(), index).is_some() {
                return Err(invalid(
                    &location,
                    format!("{event} is already handled by an earlier rule"),
                ));
            }
        }
        rules.push(rule);
    }
    Ok(Compiled {
        rules,
        by_type,
        exponents,
        fence,
    })
}

/// `outer, inner`, or just `outer` when the error is about `outer` itself.
fn within(outer: &str, inner: String) -> String {
    if inner.is_empty() {
        outer.to_owned()
    } else {
        format!("{outer}, {inner}")
    }
}

fn rule_location(index: usize, rule: &RawRule) -> String {
    if rule.events.is_empty() {
        format!("rule {}", index + 1)
    } else {
        format!("rule for {}", rule.events.join(", "))
    }
}

/// Errors carry a place inside the rule (empty for the rule itself).
fn compile_rule(raw: RawRule) -> Result<EventRule, (String, String)> {
    let whole = |reason: &str| (String::new(), reason.to_owned());
    if raw.events.is_empty() {
        return Err(whole("`events` is empty"));
    }
    if let Some(bad) = raw
        .events
        .iter()
        .find(|e| e.is_empty() || e.contains(char::is_whitespace))
    {
        return Err(whole(&format!("{bad:?} is not an event type")));
    }
    if raw.writes.is_empty() {
        return Err(whole("no [[rule.write]]: the rule would write nothing"));
    }
    let mut writes = Vec::new();
    for (index, raw_write) in raw.writes.into_iter().enumerate() {
        let place = format!("write {} ({})", index + 1, raw_write.sobject);
        let write =
            compile_write(raw_write).map_err(|(inner, reason)| (within(&place, inner), reason))?;
        let after_main = writes.iter().any(|w: &WriteRule| w.role == WriteRole::Main);
        if write.role == WriteRole::ParentStub && after_main {
            return Err((
                place,
                "parent stubs must come before the main writes".into(),
            ));
        }
        writes.push(write);
    }
    if !writes.iter().any(|w| w.role == WriteRole::Main) {
        return Err(whole("only parent stubs: add a write with role = \"main\""));
    }
    Ok(EventRule {
        events: raw.events,
        writes,
    })
}

/// `path` plus `fallback_paths`, parsed; `None` when neither is given.
pub(super) fn paths(
    path: Option<String>,
    fallbacks: Vec<String>,
) -> Checked<Option<Vec<JsonPath>>> {
    match path {
        None if fallbacks.is_empty() => Ok(None),
        None => Err("`fallback_paths` needs a `path` to fall back from".into()),
        Some(first) => std::iter::once(first)
            .chain(fallbacks)
            .map(|text| JsonPath::parse(&text))
            .collect::<Checked<Vec<_>>>()
            .map(Some),
    }
}

/// Salesforce API names: letters, digits and underscores, starting with a letter.
pub(super) fn api_name(name: &str) -> Checked<()> {
    let mut chars = name.chars();
    let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    if starts_with_letter && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(())
    } else {
        Err(format!("{name:?} is not a Salesforce API name"))
    }
}
