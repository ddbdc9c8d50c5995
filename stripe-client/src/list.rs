//! Stripe's list envelope and cursor pagination (API reference, "Pagination").

use serde::{Deserialize, Serialize};

/// One page of a list: `{"object": "list", "data": [...], "has_more": ...}`.
#[derive(Debug, Clone, Deserialize)]
pub struct List<T> {
    /// The objects, newest first.
    pub data: Vec<T>,
    /// Whether more objects lie beyond this page in the direction being paged.
    pub has_more: bool,
}

/// The cursor parameters every list takes. `starting_after` pages towards older objects,
/// `ending_before` towards newer ones; not both.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Page {
    /// Objects per page, 1 to 100 (Stripe's default is 10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u8>,
    /// The id after which the page starts (older objects).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starting_after: Option<String>,
    /// The id before which the page ends (newer objects).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ending_before: Option<String>,
}

impl Page {
    /// The first page, `limit` objects long.
    pub fn first(limit: u8) -> Self {
        Self {
            limit: Some(limit),
            ..Self::default()
        }
    }
}

/// A time range on `created` (`created[gte]=…`), epoch seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CreatedRange {
    /// Strictly after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gt: Option<i64>,
    /// At or after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gte: Option<i64>,
    /// Strictly before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lt: Option<i64>,
    /// At or before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lte: Option<i64>,
}
