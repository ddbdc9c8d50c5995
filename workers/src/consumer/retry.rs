//! When a failed event is tried again: the retry schedule (`RETRY_DELAYS_SECS`).

use std::time::Duration;

use salesforce_client::FailureClass;

use crate::store::Deferral;

/// Delays before the 1st, 2nd, ... retry; after the last one the event is dead-lettered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    delays: Vec<Duration>,
}

impl RetrySchedule {
    /// Parses `2,4,8,16,32` (seconds).
    pub fn parse(text: &str) -> Result<Self, String> {
        let delays = text
            .split(',')
            .map(|part| {
                part.trim()
                    .parse::<u64>()
                    .map(Duration::from_secs)
                    .map_err(|_| format!("not a number of seconds: {part:?}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { delays })
    }

    /// Where an event that failed with `class` goes after `attempts` attempts (this one
    /// included), `now_ms` being Unix ms: a permanent failure to the dead letters at once,
    /// anything else back on its stream after the next delay, until the delays run out.
    pub fn deferral(&self, class: FailureClass, attempts: u32, now_ms: i64) -> Deferral {
        match class {
            FailureClass::Permanent => Deferral::Dead,
            _ => match self.delay_after(attempts) {
                Some(delay) => Deferral::RetryAt(
                    now_ms.saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX)),
                ),
                None => Deferral::Dead,
            },
        }
    }

    /// The delay before the next attempt, given the attempts made so far (this one
    /// included), or None when the retries are used up.
    pub fn delay_after(&self, attempts: u32) -> Option<Duration> {
        self.delays
            .get(usize::try_from(attempts).ok()?.checked_sub(1)?)
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permanent_failures_die_at_once_and_others_after_the_last_delay() {
        let schedule = RetrySchedule::parse("2,4").expect("valid");
        assert_eq!(
            schedule.deferral(FailureClass::Permanent, 1, 1_000),
            Deferral::Dead
        );
        assert_eq!(
            schedule.deferral(FailureClass::Retryable, 1, 1_000),
            Deferral::RetryAt(3_000)
        );
        assert_eq!(
            schedule.deferral(FailureClass::RateLimited, 2, 1_000),
            Deferral::RetryAt(5_000)
        );
        assert_eq!(
            schedule.deferral(FailureClass::Retryable, 3, 1_000),
            Deferral::Dead
        );
    }

    #[test]
    fn retry_schedule_runs_out() {
        let schedule = RetrySchedule::parse("2, 4,8").unwrap();
        assert_eq!(schedule.delay_after(1), Some(Duration::from_secs(2)));
        assert_eq!(schedule.delay_after(3), Some(Duration::from_secs(8)));
        assert_eq!(schedule.delay_after(4), None);
        assert_eq!(schedule.delay_after(0), None);
        assert!(RetrySchedule::parse("2,x").is_err());
    }
}
