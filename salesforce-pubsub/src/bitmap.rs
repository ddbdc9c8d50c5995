//! The bitmap encoding of `changedFields`, `nulledFields` and `diffFields` over the Pub/Sub
//! API (Salesforce, "Event Deserialization Considerations",
//! <https://developer.salesforce.com/docs/platform/pub-sub-api/guide/event-deserialization-considerations.html>):
//! a list of strings, the first `0x…` a bitmap of top-level Avro field positions, then one
//! `<parent position>-0x…` per compound field with the bitmap of its nested positions. A
//! bitmap is a big-endian hexadecimal number whose bit *i* (least significant first) stands
//! for the field at position *i*, written with whole bytes as Salesforce's Java sample
//! (`EventParser.convertHexStringToBitSet`, forcedotcom/pub-sub-api) reads it.

use std::collections::BTreeMap;

/// Positions of changed fields: top level, and nested ones by their compound's position.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldSet {
    /// Top-level positions.
    pub top: Vec<usize>,
    /// Compound position -> positions inside it.
    pub nested: BTreeMap<usize, Vec<usize>>,
}

impl FieldSet {
    /// Whether no field is set.
    pub fn is_empty(&self) -> bool {
        self.top.is_empty() && self.nested.is_empty()
    }

    /// The Salesforce string list for this set (empty when the set is).
    pub fn encode(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.top.is_empty() {
            out.push(bitmap(&self.top));
        }
        for (parent, children) in &self.nested {
            if !children.is_empty() {
                out.push(format!("{parent}-{}", bitmap(children)));
            }
        }
        out
    }
}

/// `0x` + upper-case hex of the number with bit `p` set for every position `p`, whole bytes.
pub fn bitmap(positions: &[usize]) -> String {
    let bytes = positions.iter().max().map_or(1, |max| max / 8 + 1);
    let mut value = vec![0u8; bytes];
    for position in positions {
        value[bytes - 1 - position / 8] |= 1 << (position % 8);
    }
    format!("0x{}", hex_upper(&value))
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02X}")).collect()
}

/// The positions set in a `0x…` bitmap; `None` when it is not one.
pub fn positions(bitmap: &str) -> Option<Vec<usize>> {
    let digits = bitmap.strip_prefix("0x")?;
    let mut out = Vec::new();
    for (index, digit) in digits.chars().rev().enumerate() {
        let nibble = digit.to_digit(16)? as usize;
        for bit in 0..4 {
            if nibble & (1 << bit) != 0 {
                out.push(index * 4 + bit);
            }
        }
    }
    Some(out)
}

/// Field names of an encoded list, given the names of the top-level fields in schema order
/// and, for a compound position, its nested names: `Name.FirstName` for nested fields,
/// the compound's own name when all its nested fields are listed (as Salesforce's sample).
pub fn decode(
    encoded: &[String],
    top_names: &[String],
    nested_names: impl Fn(usize) -> Option<Vec<String>>,
) -> Option<Vec<String>> {
    let mut names = Vec::new();
    for entry in encoded {
        if let Some((parent, map)) = entry.split_once('-') {
            let parent: usize = parent.parse().ok()?;
            let parent_name = top_names.get(parent)?;
            let children = nested_names(parent)?;
            let set = positions(map)?;
            if set.len() == children.len() {
                names.push(parent_name.clone());
                continue;
            }
            for position in set {
                names.push(format!("{parent_name}.{}", children.get(position)?));
            }
        } else {
            for position in positions(entry)? {
                names.push(top_names.get(position)?.clone());
            }
        }
    }
    Some(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitmaps_are_big_endian_whole_bytes() {
        assert_eq!(bitmap(&[0]), "0x01");
        assert_eq!(bitmap(&[1, 3]), "0x0A");
        assert_eq!(bitmap(&[8]), "0x0100");
        assert_eq!(bitmap(&[5, 6, 7, 18, 24, 26, 29, 30]), "0x650400E0");
    }

    #[test]
    fn salesforce_documentation_example_round_trips() {
        // '0x650004E0' from "Event Deserialization Considerations".
        let set = positions("0x650004E0").expect("bitmap");
        assert_eq!(set, [5, 6, 7, 10, 24, 26, 29, 30]);
        assert_eq!(bitmap(&set), "0x650004E0");
    }

    #[test]
    fn decodes_top_level_and_nested_names() {
        let top: Vec<String> = ["ChangeEventHeader", "Name", "Email", "Phone"]
            .map(String::from)
            .to_vec();
        let nested = |p: usize| {
            (p == 1).then(|| vec!["Salutation".into(), "FirstName".into(), "LastName".into()])
        };
        let set = FieldSet {
            top: vec![2, 3],
            nested: BTreeMap::from([(1, vec![1])]),
        };
        let encoded = set.encode();
        assert_eq!(encoded, ["0x0C", "1-0x02"]);
        assert_eq!(
            decode(&encoded, &top, nested).expect("decodes"),
            ["Email", "Phone", "Name.FirstName"]
        );
        let all = vec!["1-0x07".to_string()];
        assert_eq!(decode(&all, &top, nested).expect("decodes"), ["Name"]);
    }
}
