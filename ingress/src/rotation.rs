//! The webhook secrets in use, replaceable while the ingress serves: with the secrets in AWS
//! Secrets Manager, a rotation (both secrets during the switch, as when Stripe rolls an
//! endpoint's secret) applies at the next re-read, without a restart.

use std::sync::{Arc, RwLock};

use common::stripe::{SignatureError, SignatureVerifier, Tolerance};

use crate::config::parse_secrets;

/// The verifier for the secrets in force.
#[derive(Debug)]
pub struct WebhookSecrets {
    current: RwLock<Arc<SignatureVerifier>>,
    tolerance: Tolerance,
}

impl WebhookSecrets {
    /// Starts with `secrets` (already validated by the configuration).
    pub fn new(secrets: &[String], tolerance: Tolerance) -> Self {
        Self {
            current: RwLock::new(Arc::new(SignatureVerifier::new(secrets, tolerance))),
            tolerance,
        }
    }

    /// Checks a `Stripe-Signature` header against the secrets in force (see
    /// [`SignatureVerifier::verify`]).
    pub fn verify(&self, payload: &[u8], header: &str, now: i64) -> Result<i64, SignatureError> {
        self.current().verify(payload, header, now)
    }

    /// The verifier in force.
    pub fn current(&self) -> Arc<SignatureVerifier> {
        match self.current.read() {
            Ok(current) => current.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Puts the secrets of `raw` (`STRIPE_WEBHOOK_SECRETS`' format) in force; a value that
    /// would verify nothing is refused and the secrets in force are kept.
    pub fn replace(&self, raw: &str) -> Result<(), String> {
        let secrets = parse_secrets(raw)?;
        let verifier = Arc::new(SignatureVerifier::new(&secrets, self.tolerance));
        match self.current.write() {
            Ok(mut current) => *current = verifier,
            Err(poisoned) => *poisoned.into_inner() = verifier,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use common::stripe::signature::compute_signature;

    use super::*;

    fn header(secret: &str, now: i64, body: &[u8]) -> String {
        format!(
            "t={now},v1={}",
            compute_signature(secret.as_bytes(), now, body)
        )
    }

    #[test]
    fn a_rotation_takes_effect_and_a_bad_value_keeps_the_secrets_in_force() {
        let secrets = WebhookSecrets::new(&["whsec_old".to_owned()], Tolerance::MaxAgeSecs(300));
        let now = 1_800_000_000;
        assert!(secrets
            .verify(b"{}", &header("whsec_old", now, b"{}"), now)
            .is_ok());
        secrets.replace("whsec_new, whsec_old").expect("valid");
        assert!(secrets
            .verify(b"{}", &header("whsec_new", now, b"{}"), now)
            .is_ok());
        assert!(secrets
            .verify(b"{}", &header("whsec_old", now, b"{}"), now)
            .is_ok());
        secrets.replace("whsec_new").expect("valid");
        assert!(secrets
            .verify(b"{}", &header("whsec_old", now, b"{}"), now)
            .is_err());
        assert!(secrets.replace(" , ").is_err());
        assert!(secrets
            .verify(b"{}", &header("whsec_new", now, b"{}"), now)
            .is_ok());
    }
}
