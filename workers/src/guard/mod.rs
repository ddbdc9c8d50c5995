//! What stands between the workers and Salesforce: the global sliding-window limiter with
//! its daily-budget throttle ([`limiter`]) and the shared circuit breaker ([`breaker`]).

pub mod breaker;
pub mod limiter;

pub use breaker::{BreakerState, CircuitBreaker};
pub use limiter::{CallRate, DailyBudget, SlidingWindowLimiter};
