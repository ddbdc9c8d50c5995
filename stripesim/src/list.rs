//! Stripe's list conventions (https://docs.stripe.com/api/pagination): newest first,
//! `limit` 1–100 (default 10), cursors `starting_after` / `ending_before` naming an object
//! id, and the envelope `{"object": "list", "data", "has_more", "url"}`.

use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::StripeError;

/// Default page size.
pub const DEFAULT_LIMIT: i64 = 10;
/// Largest page size accepted.
pub const MAX_LIMIT: i64 = 100;

/// The pagination parameters every list endpoint takes.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct PageParams {
    /// Page size.
    pub limit: Option<i64>,
    /// Return the objects after (older than) this id.
    pub starting_after: Option<String>,
    /// Return the objects before (newer than) this id.
    pub ending_before: Option<String>,
}

/// One page of `items` (already filtered, newest first) and whether more lie beyond it in
/// the direction of travel. A cursor that names no listed object is a 400, as in Stripe.
pub fn paginate<'a>(
    items: &[&'a Value],
    params: &PageParams,
) -> Result<(Vec<&'a Value>, bool), StripeError> {
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(StripeError::invalid(
            None,
            format!("This value must be between 1 and {MAX_LIMIT} (it currently is '{limit}')."),
            Some("limit"),
        ));
    }
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let position = |id: &str, param: &str| {
        items
            .iter()
            .position(|item| item["id"] == id)
            .ok_or_else(|| {
                StripeError::invalid(
                    Some("resource_missing"),
                    format!("No such object: '{id}'"),
                    Some(param),
                )
            })
    };
    if let Some(cursor) = params.starting_after.as_deref() {
        let after = &items[position(cursor, "starting_after")? + 1..];
        return Ok((
            after.iter().take(limit).copied().collect(),
            after.len() > limit,
        ));
    }
    if let Some(cursor) = params.ending_before.as_deref() {
        let before = &items[..position(cursor, "ending_before")?];
        let start = before.len().saturating_sub(limit);
        return Ok((before[start..].to_vec(), start > 0));
    }
    Ok((
        items.iter().take(limit).copied().collect(),
        items.len() > limit,
    ))
}

impl PageParams {
    /// The three pagination parameters of a list request.
    pub fn new(
        limit: Option<i64>,
        starting_after: Option<String>,
        ending_before: Option<String>,
    ) -> Self {
        Self {
            limit,
            starting_after,
            ending_before,
        }
    }
}

/// The answer of a list endpoint: one page of `items` (already filtered, newest first) in
/// the envelope for `url`, each object as `show` shows it (without what only an `expand`
/// shows, or the simulator's own fields).
pub fn page_of(
    items: &[&Value],
    params: &PageParams,
    url: &str,
    show: impl Fn(&Value) -> Value,
) -> Result<Json<Value>, StripeError> {
    let (data, has_more) = paginate(items, params)?;
    Ok(Json(envelope(
        data.into_iter().map(show).collect(),
        has_more,
        url,
    )))
}

/// The list envelope for `url` (the path listed, e.g. `/v1/customers`).
pub fn envelope(data: Vec<Value>, has_more: bool, url: &str) -> Value {
    json!({ "object": "list", "data": data, "has_more": has_more, "url": url })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objects(count: usize) -> Vec<Value> {
        (0..count)
            .rev()
            .map(|n| json!({ "id": format!("o{n}") }))
            .collect()
    }

    fn ids(page: &[&Value]) -> Vec<String> {
        page.iter()
            .map(|o| o["id"].as_str().unwrap_or("").to_string())
            .collect()
    }

    #[test]
    fn pages_forward_and_back() {
        let all = objects(5);
        let items: Vec<&Value> = all.iter().collect();
        let first = PageParams {
            limit: Some(2),
            ..PageParams::default()
        };
        let (page, more) = paginate(&items, &first).expect("page");
        assert_eq!(
            (ids(&page), more),
            (vec!["o4".to_string(), "o3".into()], true)
        );
        let next = PageParams {
            limit: Some(2),
            starting_after: Some("o3".into()),
            ..PageParams::default()
        };
        let (page, more) = paginate(&items, &next).expect("page");
        assert_eq!(
            (ids(&page), more),
            (vec!["o2".to_string(), "o1".into()], true)
        );
        let last = PageParams {
            limit: Some(2),
            starting_after: Some("o1".into()),
            ..PageParams::default()
        };
        let (page, more) = paginate(&items, &last).expect("page");
        assert_eq!((ids(&page), more), (vec!["o0".to_string()], false));
        let back = PageParams {
            limit: Some(2),
            ending_before: Some("o1".into()),
            ..PageParams::default()
        };
        let (page, more) = paginate(&items, &back).expect("page");
        assert_eq!(
            (ids(&page), more),
            (vec!["o3".to_string(), "o2".into()], true)
        );
    }

    #[test]
    fn limit_out_of_range_and_unknown_cursor_are_400() {
        let all = objects(1);
        let items: Vec<&Value> = all.iter().collect();
        for limit in [0, 101] {
            let params = PageParams {
                limit: Some(limit),
                ..PageParams::default()
            };
            let error = paginate(&items, &params).expect_err("out of range");
            assert_eq!(error.param.as_deref(), Some("limit"));
        }
        let params = PageParams {
            starting_after: Some("nope".into()),
            ..PageParams::default()
        };
        assert_eq!(paginate(&items, &params).expect_err("unknown").status, 400);
    }
}
