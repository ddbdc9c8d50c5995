//! Idempotency keys derived from what caused a request.
//!
//! Stripe replays the first response to a request repeated with the same
//! `Idempotency-Key` for at least 24 hours (API reference, "Idempotent requests"). A key
//! made from the cause — which Salesforce record, which change, what is being done — is
//! the same in every retry, every replica and after a crash, so none of them can create a
//! second object. A random key per attempt (what Stripe's libraries do by default) protects
//! only the retries of one process.

use sha2::{Digest, Sha256};

/// An `Idempotency-Key` header value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// The key for `action` (e.g. `customer.create`) caused by `cause`, the identifiers
    /// that make this request unique (record id, change id, ...). The parts are hashed,
    /// so record ids and e-mails never reach Stripe's logs through the key, and the key
    /// stays far below Stripe's 255-character limit: `sfsync-<action>-<64 hex digits>`.
    pub fn derive(action: &str, cause: &[&str]) -> Self {
        let mut hash = Sha256::new();
        hash.update(action.as_bytes());
        for part in cause {
            // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part.as_bytes());
        }
        let action: String = action
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .take(64)
            .collect();
        Self(format!("sfsync-{action}-{}", hex::encode(hash.finalize())))
    }

    /// A key derived earlier and stored (its [`as_str`](Self::as_str)), to repeat a request
    /// exactly as it was first sent.
    pub fn from_raw(key: &str) -> Self {
        Self(key.to_owned())
    }

    /// The header value.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_cause_gives_the_same_key() {
        let a = IdempotencyKey::derive("customer.create", &["003xx", "chg-1"]);
        let b = IdempotencyKey::derive("customer.create", &["003xx", "chg-1"]);
        assert_eq!(a, b);
        assert!(a.as_str().starts_with("sfsync-customer-create-"));
        assert_eq!(a.as_str().len(), "sfsync-customer-create-".len() + 64);
    }

    #[test]
    fn another_cause_or_action_gives_another_key() {
        let base = IdempotencyKey::derive("customer.create", &["003xx", "chg-1"]);
        for other in [
            IdempotencyKey::derive("customer.create", &["003xx", "chg-2"]),
            IdempotencyKey::derive("customer.update", &["003xx", "chg-1"]),
            IdempotencyKey::derive("customer.create", &["003xxchg-1"]),
            IdempotencyKey::derive("customer.create", &["003x", "xchg-1"]),
        ] {
            assert_ne!(base, other);
        }
    }

    #[test]
    fn the_cause_is_not_readable_in_the_key() {
        let key = IdempotencyKey::derive("customer.create", &["jane@example.com"]);
        assert!(!key.as_str().contains("jane"));
    }
}
