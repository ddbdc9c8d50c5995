//! Stripe's event list read in the order catch-up needs: oldest first, from an instant or
//! from a cursor (`GET /v1/events`).
//!
//! Stripe lists events newest first. To walk them oldest first, Stripe's guide "Process
//! undelivered webhook events" (https://docs.stripe.com/webhooks/process-undelivered-events)
//! lists with `ending_before` set to the event just before the gap; each page then holds
//! the `limit` events right after the cursor (still newest first within the page), and
//! the page's newest event is the next cursor ("Pagination",
//! https://docs.stripe.com/api/pagination). The starting cursor for an instant is the
//! newest event created before it; when there is none (the instant is older than every
//! event), the oldest event since it is found by paging the other way once.
//!
//! Stripe keeps events 30 days ("Events", https://docs.stripe.com/api/events); `types[]`
//! takes at most 20 types, so a longer list is filtered here instead.

use stripe_client::{
    events::{Event, ListEvents},
    CreatedRange, Page, StripeClient, StripeError,
};

/// Events per page: Stripe's maximum.
const PAGE_SIZE: u8 = 100;
/// Most types `types[]` takes (API reference, "List all events").
pub const MAX_SERVER_TYPES: usize = 20;

/// Which event types catch-up lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeFilter {
    /// Every type (`*`).
    All,
    /// Only these types.
    Only(Vec<String>),
}

impl TypeFilter {
    /// `*` for every type, else a comma-separated list.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text == "*" {
            return Ok(Self::All);
        }
        let types: Vec<String> = text
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect();
        if types.is_empty() {
            return Err("names no event type (use `*` for every type)".into());
        }
        Ok(Self::Only(types))
    }

    /// Whether events of `event_type` are wanted.
    pub fn admits(&self, event_type: &str) -> bool {
        match self {
            Self::All => true,
            Self::Only(types) => types.iter().any(|t| t == event_type),
        }
    }

    /// The `types[]` Stripe filters by: the list when Stripe takes it, else none (every
    /// type is listed and [`admits`](Self::admits) filters).
    fn server_side(&self) -> Vec<String> {
        match self {
            Self::Only(types) if types.len() <= MAX_SERVER_TYPES => types.clone(),
            _ => Vec::new(),
        }
    }
}

impl std::fmt::Display for TypeFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::All => f.write_str("*"),
            Self::Only(types) => f.write_str(&types.join(",")),
        }
    }
}

/// One page walked towards newer events.
#[derive(Debug)]
pub struct NewerPage {
    /// The wanted events of the page, oldest first.
    pub events: Vec<Event>,
    /// Events listed, wanted or not.
    pub listed: usize,
    /// The cursor for the next page: the page's newest event (`None` for an empty page).
    pub next_cursor: Option<String>,
    /// Whether newer events remain.
    pub has_more: bool,
}

/// Stripe's event list through the fleet's client (and so through its shared budget).
pub struct EventFeed {
    client: StripeClient,
    types: TypeFilter,
}

impl EventFeed {
    /// Lists events of `types` with `client`.
    pub fn new(client: StripeClient, types: TypeFilter) -> Self {
        Self { client, types }
    }

    /// The types listed.
    pub fn types(&self) -> &TypeFilter {
        &self.types
    }

    fn filter(&self, created: Option<CreatedRange>, page: Page) -> ListEvents {
        ListEvents {
            types: self.types.server_side(),
            created,
            page,
            ..ListEvents::default()
        }
    }

    /// The newest event (of any wanted type, when Stripe filters) created before `instant`:
    /// the cursor just before the events since `instant`.
    pub async fn newest_before(&self, instant: i64) -> Result<Option<Event>, StripeError> {
        let created = CreatedRange {
            lt: Some(instant),
            ..CreatedRange::default()
        };
        let page = self
            .client
            .list_events(&self.filter(Some(created), Page::first(1)))
            .await?;
        Ok(page.data.into_iter().next())
    }

    /// The oldest event created at or after `instant`, found by paging towards older
    /// events to the end of the list.
    pub async fn oldest_since(&self, instant: i64) -> Result<Option<Event>, StripeError> {
        let created = CreatedRange {
            gte: Some(instant),
            ..CreatedRange::default()
        };
        let mut oldest: Option<Event> = None;
        loop {
            let page = Page {
                limit: Some(PAGE_SIZE),
                starting_after: oldest.as_ref().map(|e| e.id.clone()),
                ending_before: None,
            };
            let list = self
                .client
                .list_events(&self.filter(Some(created), page))
                .await?;
            let has_more = list.has_more;
            if let Some(last) = list.data.into_iter().last() {
                oldest = Some(last);
            }
            if !has_more {
                return Ok(oldest);
            }
        }
    }

    /// The page of events right after `cursor` (newer), oldest first.
    pub async fn newer_than(&self, cursor: &str) -> Result<NewerPage, StripeError> {
        let page = Page {
            limit: Some(PAGE_SIZE),
            starting_after: None,
            ending_before: Some(cursor.to_owned()),
        };
        let list = self.client.list_events(&self.filter(None, page)).await?;
        let listed = list.data.len();
        let next_cursor = list.data.first().map(|e| e.id.clone());
        let events = list
            .data
            .into_iter()
            .rev()
            .filter(|e| self.types.admits(&e.event_type))
            .collect();
        Ok(NewerPage {
            events,
            listed,
            next_cursor,
            has_more: list.has_more,
        })
    }

    /// Every wanted event created at or after `instant`, oldest first: a catch-up cycle's
    /// window, short enough to hold in memory. Pages towards older events, which needs no
    /// starting cursor.
    pub async fn since(&self, instant: i64) -> Result<Vec<Event>, StripeError> {
        let created = CreatedRange {
            gte: Some(instant),
            ..CreatedRange::default()
        };
        let mut events: Vec<Event> = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = Page {
                limit: Some(PAGE_SIZE),
                starting_after: after.take(),
                ending_before: None,
            };
            let list = self
                .client
                .list_events(&self.filter(Some(created), page))
                .await?;
            after = list.data.last().map(|e| e.id.clone());
            let has_more = list.has_more;
            events.extend(list.data);
            if !has_more || after.is_none() {
                break;
            }
        }
        events.reverse();
        events.retain(|e| self.types.admits(&e.event_type));
        Ok(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_lists_parse_and_filter() {
        assert_eq!(TypeFilter::parse(" * "), Ok(TypeFilter::All));
        let only = TypeFilter::parse("customer.created, price.updated,").unwrap();
        assert!(only.admits("price.updated"));
        assert!(!only.admits("customer.deleted"));
        assert_eq!(only.to_string(), "customer.created,price.updated");
        assert_eq!(only.server_side().len(), 2);
        assert!(TypeFilter::parse(" , ").is_err());
    }

    #[test]
    fn more_types_than_stripe_takes_are_filtered_here() {
        let many: Vec<String> = (0..=MAX_SERVER_TYPES).map(|n| format!("t.{n}")).collect();
        let filter = TypeFilter::Only(many);
        assert!(filter.server_side().is_empty());
        assert!(filter.admits("t.20"));
        assert!(!filter.admits("t.21"));
    }
}
