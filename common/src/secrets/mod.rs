//! Secrets from AWS Secrets Manager instead of the environment.
//!
//! With `SECRETS_MANAGER_SECRET_ID` set, a role reads one JSON secret whose keys are the
//! names of the secret variables it would otherwise take from the environment:
//!
//! ```json
//! {"STRIPE_WEBHOOK_SECRETS": "whsec_new,whsec_old", "STRIPE_API_KEY": "sk_live_…",
//!  "SALESFORCE_CLIENT_SECRET": "…", "STATUS_API_TOKEN": "…"}
//! ```
//!
//! One secret can serve every role: each takes the keys it knows ([`load_before_start`]
//! puts them into its environment before its configuration is parsed, so every check and
//! default of the configuration applies to them as to variables); a key no role knows is
//! refused as a likely typo. The client uses the default AWS credential chain and region, and
//! `AWS_ENDPOINT_URL_SECRETS_MANAGER` (or `AWS_ENDPOINT_URL`) for a local endpoint.
//! [`SecretWatcher`] re-reads the secret on an interval so a rotation needs no restart
//! where the role supports it (the ingress's webhook secrets). Values never appear in logs,
//! errors or `Debug` output.

mod source;

use std::collections::BTreeMap;
use std::fmt;

pub use source::{follow, load_before_start, updates, SecretWatcher};

/// Names the secret id.
pub const SECRET_ID_VAR: &str = "SECRETS_MANAGER_SECRET_ID";
/// Seconds between re-reads of the secret (default [`DEFAULT_REFRESH_SECS`]).
pub const REFRESH_VAR: &str = "SECRETS_REFRESH_SECS";
/// Default of [`REFRESH_VAR`]: five minutes.
pub const DEFAULT_REFRESH_SECS: u64 = 300;

/// Every key a secret may hold: the fleet's secret variables.
pub const KNOWN_KEYS: [&str; 4] = [
    "STRIPE_WEBHOOK_SECRETS",
    "STRIPE_API_KEY",
    "SALESFORCE_CLIENT_SECRET",
    "STATUS_API_TOKEN",
];

/// Why the secret could not be used. Never holds a secret value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretsError {
    /// Secrets Manager did not hand the secret over.
    #[error("cannot read secret {id:?} from AWS Secrets Manager: {reason}")]
    Fetch {
        /// The secret id.
        id: String,
        /// What the SDK said (service error code and message; no value).
        reason: String,
    },
    /// The secret is binary or has no string value.
    #[error("secret {id:?} has no SecretString (a JSON object is expected)")]
    NotText {
        /// The secret id.
        id: String,
    },
    /// The secret string is not a JSON object of strings.
    #[error("secret {id:?} is not a JSON object of text values: {problem}")]
    Malformed {
        /// The secret id.
        id: String,
        /// What is wrong (a key name at most, never a value).
        problem: String,
    },
    /// A variable that holds the refresh interval is not a number of seconds.
    #[error("{REFRESH_VAR} must be a whole number of seconds greater than 0")]
    BadRefresh,
}

/// The values of one secret, by variable name. `Debug` shows the names only.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SecretValues(BTreeMap<String, String>);

impl fmt::Debug for SecretValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl SecretValues {
    /// The value of `name`, if the secret has it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The names it holds.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

/// Parses a secret string: a JSON object whose keys are among [`KNOWN_KEYS`] and whose
/// values are non-empty text.
pub fn parse(id: &str, text: &str) -> Result<SecretValues, SecretsError> {
    let malformed = |problem: String| SecretsError::Malformed {
        id: id.to_owned(),
        problem,
    };
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|_| malformed("not valid JSON".into()))?;
    let object = value
        .as_object()
        .ok_or_else(|| malformed("not a JSON object".into()))?;
    if object.is_empty() {
        return Err(malformed("no keys".into()));
    }
    let mut values = BTreeMap::new();
    for (key, value) in object {
        if !KNOWN_KEYS.contains(&key.as_str()) {
            return Err(malformed(format!(
                "unknown key {key:?} (known: {})",
                KNOWN_KEYS.join(", ")
            )));
        }
        match value.as_str() {
            Some(text) if !text.trim().is_empty() => {
                values.insert(key.clone(), text.to_owned());
            }
            _ => return Err(malformed(format!("{key} is not non-empty text"))),
        }
    }
    Ok(SecretValues(values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_object_of_known_keys_is_read() {
        let values = parse(
            "fleet",
            r#"{"STRIPE_WEBHOOK_SECRETS": "whsec_a,whsec_b", "STRIPE_API_KEY": "sk_test_x"}"#,
        )
        .expect("valid");
        assert_eq!(
            values.get("STRIPE_WEBHOOK_SECRETS"),
            Some("whsec_a,whsec_b")
        );
        assert_eq!(values.get("STATUS_API_TOKEN"), None);
        let shown = format!("{values:?}");
        assert!(
            shown.contains("STRIPE_API_KEY") && !shown.contains("sk_test_x"),
            "{shown}"
        );
    }

    #[test]
    fn malformed_secrets_say_what_is_wrong_without_a_value() {
        let cases = [
            ("sk_test_plain", "not valid JSON"),
            (r#"["sk_test_x"]"#, "not a JSON object"),
            ("{}", "no keys"),
            (
                r#"{"STRIPE_API_KEYS": "sk_test_x"}"#,
                "unknown key \"STRIPE_API_KEYS\"",
            ),
            (
                r#"{"STRIPE_API_KEY": 42}"#,
                "STRIPE_API_KEY is not non-empty text",
            ),
            (
                r#"{"STRIPE_API_KEY": " "}"#,
                "STRIPE_API_KEY is not non-empty text",
            ),
        ];
        for (text, problem) in cases {
            let error = parse("fleet", text).expect_err(text).to_string();
            assert!(error.contains(problem), "{text}: {error}");
            assert!(!error.contains("sk_test_x"), "{error}");
        }
    }
}
