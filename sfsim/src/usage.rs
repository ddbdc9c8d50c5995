//! Counting API use: the daily allocation behind `Sforce-Limit-Info`, long-running
//! requests in flight, and the call log the inspection API reports from.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde::Serialize;

const MINUTES_PER_DAY: i64 = 24 * 60;

/// The 24 h rolling daily API request allocation (docs/salesforce-api.md §2.5, §8), in
/// one-minute buckets.
#[derive(Debug)]
pub struct DailyUsage {
    limit: AtomicU64,
    buckets: Mutex<VecDeque<(i64, u64)>>,
}

impl DailyUsage {
    /// An unused allocation of `limit` requests.
    pub fn new(limit: u64) -> Self {
        Self {
            limit: AtomicU64::new(limit),
            buckets: Mutex::new(VecDeque::new()),
        }
    }

    /// Counts one request if the allocation allows it. Returns `(used, max)` after
    /// counting, or `Err((used, max))` when the allocation is spent (not counted).
    pub fn try_consume(&self, now_ms: i64) -> Result<(u64, u64), (u64, u64)> {
        let minute = now_ms / 60_000;
        let max = self.limit.load(Ordering::Relaxed);
        let mut buckets = self.buckets.lock();
        expire(&mut buckets, minute);
        let used: u64 = buckets.iter().map(|(_, count)| count).sum();
        if used >= max {
            return Err((used, max));
        }
        match buckets.back_mut() {
            Some((last, count)) if *last == minute => *count += 1,
            _ => buckets.push_back((minute, 1)),
        }
        Ok((used + 1, max))
    }

    /// `(used, max)` now.
    pub fn snapshot(&self, now_ms: i64) -> (u64, u64) {
        let mut buckets = self.buckets.lock();
        expire(&mut buckets, now_ms / 60_000);
        (
            buckets.iter().map(|(_, count)| count).sum(),
            self.limit.load(Ordering::Relaxed),
        )
    }

    /// Sets the allocation and/or the amount used (admin: "daily limit reached").
    pub fn set(&self, now_ms: i64, used: Option<u64>, max: Option<u64>) {
        if let Some(max) = max {
            self.limit.store(max, Ordering::Relaxed);
        }
        if let Some(used) = used {
            let mut buckets = self.buckets.lock();
            buckets.clear();
            buckets.push_back((now_ms / 60_000, used));
        }
    }
}

fn expire(buckets: &mut VecDeque<(i64, u64)>, minute: i64) {
    while buckets
        .front()
        .is_some_and(|(first, _)| *first <= minute - MINUTES_PER_DAY)
    {
        buckets.pop_front();
    }
}

/// Requests in flight, to find the long-running ones (docs/salesforce-api.md §8).
#[derive(Debug, Default)]
pub struct InFlight {
    next: AtomicU64,
    started: Mutex<HashMap<u64, Instant>>,
}

/// Removes its request from [`InFlight`] when dropped (also when the client disconnects).
#[derive(Debug)]
pub struct InFlightGuard<'a> {
    owner: &'a InFlight,
    key: u64,
}

impl InFlight {
    /// Registers a request that starts now.
    pub fn enter(&self) -> InFlightGuard<'_> {
        let key = self.next.fetch_add(1, Ordering::Relaxed);
        self.started.lock().insert(key, Instant::now());
        InFlightGuard { owner: self, key }
    }

    /// How many requests in flight have run for at least `threshold`.
    pub fn long_running(&self, threshold: Duration) -> usize {
        self.started
            .lock()
            .values()
            .filter(|started| started.elapsed() >= threshold)
            .count()
    }

    /// How many requests are in flight.
    pub fn count(&self) -> usize {
        self.started.lock().len()
    }
}

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        self.owner.started.lock().remove(&self.key);
    }
}

/// Every request the simulator answered: for "how many calls did the fleet make", the
/// per-second timeline, and the busiest window (the global rate limiter's proof).
#[derive(Debug)]
pub struct CallLog {
    limit: usize,
    inner: Mutex<CallLogInner>,
}

#[derive(Debug, Default)]
struct CallLogInner {
    total: u64,
    by_endpoint: BTreeMap<&'static str, u64>,
    by_status: BTreeMap<u16, u64>,
    /// Arrival times (epoch ms) of API calls that count against the daily allocation.
    api_call_times: VecDeque<i64>,
}

/// Totals for `/__sim/calls`.
#[derive(Debug, Serialize)]
pub struct CallCounts {
    /// All requests, counted or not.
    pub total: u64,
    /// Requests by endpoint name.
    pub by_endpoint: BTreeMap<&'static str, u64>,
    /// Requests by HTTP status.
    pub by_status: BTreeMap<u16, u64>,
}

impl CallLog {
    /// A log keeping at most `limit` call timestamps.
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            inner: Mutex::new(CallLogInner::default()),
        }
    }

    /// Records one answered request. `counted` says whether it used the daily allocation
    /// (only those enter the timeline: they are what a rate limiter must bound).
    pub fn record(&self, arrived_ms: i64, endpoint: &'static str, status: u16, counted: bool) {
        let mut inner = self.inner.lock();
        inner.total += 1;
        *inner.by_endpoint.entry(endpoint).or_default() += 1;
        *inner.by_status.entry(status).or_default() += 1;
        if counted {
            inner.api_call_times.push_back(arrived_ms);
            if inner.api_call_times.len() > self.limit {
                inner.api_call_times.pop_front();
            }
        }
    }

    /// Totals.
    pub fn counts(&self) -> CallCounts {
        let inner = self.inner.lock();
        CallCounts {
            total: inner.total,
            by_endpoint: inner.by_endpoint.clone(),
            by_status: inner.by_status.clone(),
        }
    }

    /// Counted calls per second: `(epoch second, calls)` in time order.
    pub fn timeline(&self) -> Vec<(i64, u64)> {
        let mut seconds: BTreeMap<i64, u64> = BTreeMap::new();
        for at in &self.inner.lock().api_call_times {
            *seconds.entry(at.div_euclid(1000)).or_default() += 1;
        }
        seconds.into_iter().collect()
    }

    /// The largest number of counted calls made at or after `since_ms` in any window of
    /// `window_ms`, and where the busiest window starts (epoch ms).
    pub fn max_in_window(&self, window_ms: i64, since_ms: i64) -> (u64, Option<i64>) {
        let mut times: Vec<i64> = self
            .inner
            .lock()
            .api_call_times
            .iter()
            .copied()
            .filter(|at| *at >= since_ms)
            .collect();
        times.sort_unstable();
        let mut best = (0u64, None);
        let mut start = 0;
        for end in 0..times.len() {
            while times[end] - times[start] >= window_ms {
                start += 1;
            }
            let count = (end - start + 1) as u64;
            if count > best.0 {
                best = (count, Some(times[start]));
            }
        }
        best
    }

    /// Forgets everything.
    pub fn reset(&self) {
        *self.inner.lock() = CallLogInner::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busiest_window() {
        let log = CallLog::new(100);
        for at in [0, 100, 900, 1000, 1001, 1002, 5000] {
            log.record(at, "sobject.upsert", 200, true);
        }
        assert_eq!(log.max_in_window(1000, 0), (5, Some(100)));
        assert_eq!(log.max_in_window(1, 0), (1, Some(0)));
        assert_eq!(log.max_in_window(1000, 1001), (2, Some(1001)));
    }

    #[test]
    fn daily_allocation_refuses_when_spent() {
        let usage = DailyUsage::new(2);
        assert_eq!(usage.try_consume(0), Ok((1, 2)));
        assert_eq!(usage.try_consume(1), Ok((2, 2)));
        assert_eq!(usage.try_consume(2), Err((2, 2)));
        // A day later the first minute's calls have rolled off.
        assert_eq!(usage.try_consume(86_400_000), Ok((1, 2)));
    }
}
