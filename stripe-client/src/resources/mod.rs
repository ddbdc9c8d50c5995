//! The resources the fleet uses, one module each: typed parameters in, typed objects out.
//! Objects carry the fields the fleet reads; Stripe's other fields are ignored, so a new
//! field in Stripe's answers never breaks a call.

pub mod checkout;
pub mod customers;
pub mod events;
pub mod prices;
pub mod subscriptions;

use std::collections::BTreeMap;

/// Stripe's `metadata`: up to 50 string keys with string values.
pub type Metadata = BTreeMap<String, String>;

/// Percent-encodes an object id for a URL path. Ids come from Salesforce fields and
/// configuration, so a stray `/` or `?` must not change which URL is called.
pub(crate) fn path_segment(id: &str) -> String {
    id.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'.' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// The parameters of a call that takes none.
#[derive(serde::Serialize)]
pub(crate) struct NoParams {}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_cannot_escape_their_path_segment() {
        assert_eq!(super::path_segment("cus_123"), "cus_123");
        assert_eq!(super::path_segment("../x?y"), "..%2Fx%3Fy");
    }
}
