//! Salesforce record ids: 15 case-sensitive characters (3-character key prefix naming the
//! object, then pod and counter) plus a 3-character case-insensitive checksum suffix.
//!
//! Clients compare ids, slice key prefixes and send 15- or 18-character forms back, so the
//! simulator issues real-looking 18-character ids and accepts both forms
//! (docs/salesforce-api.md §7).

use std::sync::atomic::{AtomicU64, Ordering};

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const CHECKSUM_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/// Key prefix of the simulated organization id (`00D`).
pub const ORG_PREFIX: &str = "00D";
/// Key prefix of user ids (`005`).
pub const USER_PREFIX: &str = "005";
/// Key prefix of Bulk API jobs (`750`).
pub const BULK_JOB_PREFIX: &str = "750";
/// Key prefix of query locators (`01g`).
pub const QUERY_LOCATOR_PREFIX: &str = "01g";

/// Hands out unique ids; one per simulator so ids never repeat within a run.
#[derive(Debug)]
pub struct IdGenerator {
    counter: AtomicU64,
}

impl IdGenerator {
    /// Starts at a random offset so ids of two simulator runs are unlikely to collide
    /// (a test that mixes them up then fails loudly instead of passing by accident).
    pub fn new() -> Self {
        Self {
            counter: AtomicU64::new(rand::random::<u32>().into()),
        }
    }

    /// A fresh 18-character id with the given 3-character key prefix.
    pub fn next(&self, key_prefix: &str) -> String {
        let mut number = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut digits = [b'0'; 9];
        for slot in digits.iter_mut().rev() {
            *slot = BASE62[(number % 62) as usize];
            number /= 62;
        }
        let mut id15 = String::with_capacity(18);
        id15.push_str(key_prefix);
        id15.push_str("Dn0");
        id15.push_str(std::str::from_utf8(&digits).unwrap_or("000000000"));
        with_checksum(&id15)
    }
}

impl Default for IdGenerator {
    fn default() -> Self {
        Self::new()
    }
}

/// Turns a 15- or 18-character id into the canonical 18-character form; `None` when the
/// text cannot be a Salesforce id (the caller answers `MALFORMED_ID`).
pub fn normalize(text: &str) -> Option<String> {
    if !text.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    match text.len() {
        15 => Some(with_checksum(text)),
        18 => {
            let mut id15: Vec<u8> = text.as_bytes()[..15].to_vec();
            for (chunk_index, suffix_char) in text.as_bytes()[15..].iter().enumerate() {
                let flags = CHECKSUM_ALPHABET
                    .iter()
                    .position(|c| *c == suffix_char.to_ascii_uppercase())?;
                for bit in 0..5 {
                    let byte = &mut id15[chunk_index * 5 + bit];
                    if flags & (1 << bit) != 0 {
                        if !byte.is_ascii_alphabetic() {
                            return None;
                        }
                        *byte = byte.to_ascii_uppercase();
                    } else {
                        *byte = byte.to_ascii_lowercase();
                    }
                }
            }
            let id15 = String::from_utf8(id15).ok()?;
            Some(with_checksum(&id15))
        }
        _ => None,
    }
}

fn with_checksum(id15: &str) -> String {
    let mut id = String::with_capacity(18);
    id.push_str(id15);
    for chunk in id15.as_bytes().chunks(5) {
        let flags = chunk
            .iter()
            .enumerate()
            .filter(|(_, byte)| byte.is_ascii_uppercase())
            .fold(0usize, |acc, (bit, _)| acc | (1 << bit));
        id.push(char::from(CHECKSUM_ALPHABET[flags]));
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_salesforce_id_checksum() {
        assert_eq!(normalize("001D000000Kv3g5").unwrap(), "001D000000Kv3g5IAB");
        assert_eq!(
            normalize("001d000000kv3g5iab").unwrap(),
            "001D000000Kv3g5IAB"
        );
    }

    #[test]
    fn generated_ids_validate() {
        let ids = IdGenerator::new();
        let id = ids.next("a00");
        assert_eq!(id.len(), 18);
        assert_eq!(normalize(&id).unwrap(), id);
        assert!(normalize("not-an-id").is_none());
    }
}
