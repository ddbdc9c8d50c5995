//! What stands between the workers and the APIs they call: the global sliding-window
//! limiter for Salesforce with its daily-budget throttle ([`limiter`]), the Stripe request
//! budget ([`stripe_budget`]), both on one shared window ([`window`]), and the shared
//! circuit breaker ([`breaker`]).

pub mod breaker;
pub mod limiter;
pub mod stripe_budget;
pub mod window;

pub use breaker::{BreakerState, CircuitBreaker};
pub use limiter::{CallRate, DailyBudget, SlidingWindowLimiter};
pub use stripe_budget::StripeBudget;
