//! Stripe's rate limiter (https://docs.stripe.com/rate-limits): a budget of requests per
//! second for the whole account (100 live, 25 in a sandbox), a stricter one per endpoint
//! (25/s by default; "each named API operation", so `GET /v1/customers/{id}` is one endpoint
//! whatever the id) and one for search (20 reads/s). A request is admitted only when every
//! budget it falls under has room, and then counts against all of them ("stricter limits
//! ... also count against global limits"); a refused request counts against none.
//!
//! The windows are sliding: at most `limit` admitted requests in any second. The decisions
//! are pure (they take the current instant), so they are unit tested without waiting.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::config::RateLimits;

/// The span every budget is measured over.
const WINDOW: Duration = Duration::from_secs(1);

/// The admitted requests of one budget in the last second.
#[derive(Debug, Default)]
pub struct Window {
    admitted: VecDeque<Instant>,
}

impl Window {
    /// Whether one more request fits `limit` at `now` (0: no limit). Forgets requests
    /// older than a second.
    pub fn has_room(&mut self, limit: u32, now: Instant) -> bool {
        while self
            .admitted
            .front()
            .is_some_and(|at| now.duration_since(*at) >= WINDOW)
        {
            self.admitted.pop_front();
        }
        limit == 0 || self.admitted.len() < usize::try_from(limit).unwrap_or(usize::MAX)
    }

    /// Counts a request admitted at `now`.
    pub fn admit(&mut self, now: Instant) {
        self.admitted.push_back(now);
    }
}

/// Which budgets a request falls under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The named operation, e.g. `GET /v1/customers/{id}`.
    pub name: String,
    /// Whether it is a search (`…/search`), limited by the search budget.
    pub search: bool,
}

impl Endpoint {
    /// The endpoint of a request with `method` to the route `template` (the matched route,
    /// or the raw path when none matched).
    pub fn new(method: &str, template: &str) -> Self {
        Self {
            name: format!("{method} {template}"),
            search: template.ends_with("/search"),
        }
    }
}

#[derive(Debug, Default)]
struct Windows {
    global: Window,
    search: Window,
    endpoints: HashMap<String, Window>,
}

/// The account's budgets and the requests admitted against them.
#[derive(Debug)]
pub struct RateLimiter {
    limits: RateLimits,
    windows: Mutex<Windows>,
}

impl RateLimiter {
    /// A limiter enforcing `limits` (a zero budget is off).
    pub fn new(limits: RateLimits) -> Self {
        Self {
            limits,
            windows: Mutex::new(Windows::default()),
        }
    }

    /// The budgets in force.
    pub fn limits(&self) -> RateLimits {
        self.limits
    }

    /// Admits the request (counting it against every budget it falls under) or refuses it
    /// (counting it nowhere).
    pub fn admit(&self, endpoint: &Endpoint, now: Instant) -> bool {
        let limits = self.limits;
        if limits.global == 0 && limits.endpoint == 0 && limits.search == 0 {
            return true;
        }
        let mut guard = self.windows.lock();
        let windows = &mut *guard;
        let own = windows.endpoints.entry(endpoint.name.clone()).or_default();
        let room = windows.global.has_room(limits.global, now)
            && own.has_room(limits.endpoint, now)
            && (!endpoint.search || windows.search.has_room(limits.search, now));
        if room {
            windows.global.admit(now);
            own.admit(now);
            if endpoint.search {
                windows.search.admit(now);
            }
        }
        room
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(global: u32, endpoint: u32, search: u32) -> RateLimiter {
        RateLimiter::new(RateLimits {
            global,
            endpoint,
            search,
        })
    }

    #[test]
    fn a_window_holds_limit_requests_per_second() {
        let mut window = Window::default();
        let start = Instant::now();
        for _ in 0..3 {
            assert!(window.has_room(3, start));
            window.admit(start);
        }
        assert!(!window.has_room(3, start + Duration::from_millis(999)));
        assert!(window.has_room(3, start + WINDOW));
        assert!(Window::default().has_room(0, start), "0 is no limit");
    }

    #[test]
    fn endpoint_budget_is_per_operation_and_counts_globally() {
        let limiter = limiter(5, 2, 0);
        let now = Instant::now();
        let create = Endpoint::new("POST", "/v1/customers");
        let list = Endpoint::new("GET", "/v1/customers");
        assert!(limiter.admit(&create, now));
        assert!(limiter.admit(&create, now));
        assert!(!limiter.admit(&create, now), "third create in a second");
        assert!(limiter.admit(&list, now));
        assert!(limiter.admit(&list, now));
        let events = Endpoint::new("GET", "/v1/events");
        assert!(limiter.admit(&events, now), "fifth admitted request");
        assert!(!limiter.admit(&events, now), "global budget of 5 spent");
        assert!(limiter.admit(&create, now + WINDOW), "a second later");
    }

    #[test]
    fn refused_requests_count_nowhere() {
        let limiter = limiter(2, 1, 0);
        let now = Instant::now();
        let create = Endpoint::new("POST", "/v1/customers");
        assert!(limiter.admit(&create, now));
        for _ in 0..5 {
            assert!(!limiter.admit(&create, now));
        }
        assert!(
            limiter.admit(&Endpoint::new("GET", "/v1/customers"), now),
            "the refused creates did not use the global budget"
        );
    }

    #[test]
    fn searches_share_the_search_budget() {
        let limiter = limiter(0, 0, 1);
        let now = Instant::now();
        assert!(limiter.admit(&Endpoint::new("GET", "/v1/customers/search"), now));
        assert!(!limiter.admit(&Endpoint::new("GET", "/v1/prices/search"), now));
        assert!(limiter.admit(&Endpoint::new("GET", "/v1/customers"), now));
    }
}
