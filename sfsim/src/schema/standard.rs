//! What an SFDX project does not say and only the simulator needs: the key prefixes of
//! objects, which Salesforce assigns when an object is created, not in metadata. (Standard
//! objects' standard fields are part of the model, `salesforce_metadata::standard`: the
//! fleet's mapping check needs them too.)
//!
//! Key prefixes: a standard object has Salesforce's fixed prefix (Contact `003`). The data
//! model's objects keep the prefixes sfsim has always given them (`a01`..`a05`, which tests and logs
//! rely on). Any other custom object gets `a` + two base-62 characters from an FNV-1a hash
//! of its API name; a taken prefix moves to the next free one, objects taken in name order,
//! so the same set of objects always gets the same prefixes.

use std::collections::HashSet;

/// Fixed key prefixes: standard objects (Salesforce's own) and the data model's objects.
const KNOWN_PREFIXES: &[(&str, &str)] = &[
    ("Account", "001"),
    ("Contact", "003"),
    ("Stripe_Customer__c", "a01"),
    ("Stripe_Subscription__c", "a02"),
    ("Payment_Transaction__c", "a03"),
    ("Pricing_Plan__c", "a04"),
    ("Pricing_Tier__c", "a05"),
];

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Hands out key prefixes as described in the module documentation.
pub(super) struct PrefixAllocator {
    taken: HashSet<String>,
}

impl PrefixAllocator {
    /// An allocator with every known prefix reserved.
    pub(super) fn new() -> Self {
        Self {
            taken: KNOWN_PREFIXES
                .iter()
                .map(|(_, prefix)| (*prefix).to_string())
                .collect(),
        }
    }

    /// The prefix of `object`; call in object name order.
    pub(super) fn prefix(&mut self, object: &str) -> String {
        if let Some((_, prefix)) = KNOWN_PREFIXES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(object))
        {
            return (*prefix).to_string();
        }
        let slots = BASE62.len() * BASE62.len();
        let start = fnv1a(object) % slots as u64;
        for step in 0..slots as u64 {
            let slot = ((start + step) % slots as u64) as usize;
            let prefix = format!(
                "a{}{}",
                BASE62[slot / BASE62.len()] as char,
                BASE62[slot % BASE62.len()] as char
            );
            if self.taken.insert(prefix.clone()) {
                return prefix;
            }
        }
        // More than 3,844 custom objects: far beyond any org (the limit is 3,000).
        format!("a{}", &object.get(..2).unwrap_or("00"))
    }
}

fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_stable_and_distinct() {
        let mut first = PrefixAllocator::new();
        let mut second = PrefixAllocator::new();
        assert_eq!(first.prefix("Contact"), "003");
        assert_eq!(first.prefix("stripe_customer__c"), "a01");
        let invoice = first.prefix("Invoice__c");
        assert_eq!(invoice, second.prefix("Invoice__c"));
        assert!(invoice.starts_with('a') && invoice.len() == 3);
        assert_ne!(first.prefix("Invoice__c"), invoice);
    }
}
