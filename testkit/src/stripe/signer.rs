//! Produces `Stripe-Signature` headers as Stripe does for each delivery attempt.

use common::stripe::signature::compute_signature;

/// The current Unix time in seconds.
pub fn unix_now() -> i64 {
    common::time::unix_seconds()
}

/// `t=<timestamp>,v1=<hmac>` for `payload` signed with `secret` at `timestamp`.
pub fn sign(secret: &str, timestamp: i64, payload: &str) -> String {
    sign_with_secrets(&[secret], timestamp, payload)
}

/// The header Stripe sends while a secret is rolled: one `v1` per active secret.
pub fn sign_with_secrets(secrets: &[&str], timestamp: i64, payload: &str) -> String {
    let mut header = format!("t={timestamp}");
    for secret in secrets {
        header.push_str(",v1=");
        header.push_str(&compute_signature(
            secret.as_bytes(),
            timestamp,
            payload.as_bytes(),
        ));
    }
    header
}
