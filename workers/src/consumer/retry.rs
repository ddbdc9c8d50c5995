//! When a failed event is tried again: the retry schedule (`RETRY_DELAYS_SECS`).

use std::time::Duration;

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
    fn retry_schedule_runs_out() {
        let schedule = RetrySchedule::parse("2, 4,8").unwrap();
        assert_eq!(schedule.delay_after(1), Some(Duration::from_secs(2)));
        assert_eq!(schedule.delay_after(3), Some(Duration::from_secs(8)));
        assert_eq!(schedule.delay_after(4), None);
        assert_eq!(schedule.delay_after(0), None);
        assert!(RetrySchedule::parse("2,x").is_err());
    }
}
