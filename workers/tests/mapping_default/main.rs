//! The built-in mapping against events in Stripe's real shapes (API 2026-10-28.endive, the
//! layout of `testkit`'s factory, plus pre-basil variants for the version fallbacks).

mod checkout;
mod customers;
mod errors;
mod fixtures;
mod payments;
mod pricing;
mod subscriptions;
