//! Stripe on the sending side: events as Stripe shapes them and the signature Stripe puts
//! on each delivery.

mod factory;
mod signer;

pub use factory::{
    currency_exponent, sample_amount, EventFactory, Pricing, StripeEvent, Tier, API_VERSION,
    CURRENCIES,
};
pub use signer::{sign, sign_with_secrets, unix_now};
