//! Replays the 56 signature vectors of `tests/data/stripe-signature-vectors.json` (transcribed
//! from the tests of Stripe's official libraries; origin in docs/stripe-webhooks.md §9) and
//! checks that the verifier answers as stripe-python 16.1.0 does.
//!
//! One deliberate deviation is allowed and pinned: a header with two `t=` items is refused
//! as malformed (stripe-python takes the first `t`; the vectors list `malformed_header` as
//! an acceptable outcome). Any other difference fails the test.

use common::stripe::{envelope::check_snapshot_event, SignatureVerifier, Tolerance};
use serde::Deserialize;

#[derive(Deserialize)]
struct VectorFile {
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    name: String,
    api: String,
    secret: String,
    payload: String,
    header: String,
    now: i64,
    tolerance: Option<u64>,
    expect: String,
    #[serde(default)]
    expect_alternatives: Vec<String>,
    #[serde(default)]
    derived: bool,
    library_results: std::collections::HashMap<String, String>,
}

/// Deviations from stripe-python that are intended, by vector name, with our outcome.
const INTENDED_DEVIATIONS: &[(&str, &str)] =
    &[("derived_duplicate_t_first_valid", "malformed_header")];

fn outcome(vector: &Vector) -> String {
    // stripe-python treats both "no tolerance" and 0 as "do not check the timestamp".
    let tolerance = match vector.tolerance {
        None | Some(0) => Tolerance::Unchecked,
        Some(secs) => Tolerance::MaxAgeSecs(secs),
    };
    let verifier = SignatureVerifier::new(&[vector.secret.as_str()], tolerance);
    if let Err(error) = verifier.verify(vector.payload.as_bytes(), &vector.header, vector.now) {
        return error.code().to_owned();
    }
    if vector.api == "construct_event" {
        if let Err(error) = check_snapshot_event(vector.payload.as_bytes()) {
            return error.code().to_owned();
        }
    }
    "ok".to_owned()
}

#[test]
fn every_vector_behaves_as_stripe_python() {
    let file: VectorFile = serde_json::from_str(include_str!("data/stripe-signature-vectors.json"))
        .expect("vector file parses");
    assert_eq!(file.vectors.len(), 56, "the vector file changed size");
    let mut deviations = Vec::new();
    for vector in &file.vectors {
        let python = vector
            .library_results
            .get("stripe-python 16.1.0")
            .unwrap_or_else(|| panic!("{}: no stripe-python result", vector.name));
        let ours = outcome(vector);
        if &ours != python {
            let acceptable = vector.derived
                && (ours == vector.expect || vector.expect_alternatives.contains(&ours));
            assert!(
                acceptable,
                "{}: stripe-python says {python}, we say {ours}",
                vector.name
            );
            deviations.push((vector.name.clone(), ours));
        }
    }
    let intended: Vec<(String, String)> = INTENDED_DEVIATIONS
        .iter()
        .map(|(n, o)| (n.to_string(), o.to_string()))
        .collect();
    assert_eq!(deviations, intended);
}
