//! The Pub/Sub server's TLS identity: a PEM certificate and key read from files, or a
//! self-signed certificate generated at start for the configured names (default
//! `localhost` and `127.0.0.1`) (clients trust
//! it through `/__sim/pubsub/cert`, `RunningSimulator::pubsub_cert_pem` or the file the
//! binary writes).

use std::path::PathBuf;

/// Where the certificate comes from.
#[derive(Debug, Clone, Default)]
pub enum TlsSource {
    /// Generate a self-signed one at start.
    #[default]
    Generate,
    /// PEM files: certificate (chain) and private key.
    Files {
        /// Certificate chain (PEM).
        cert: PathBuf,
        /// Private key (PEM).
        key: PathBuf,
    },
}

/// A certificate and its key, PEM.
#[derive(Debug, Clone)]
pub struct TlsIdentity {
    /// Certificate (chain), PEM: what clients trust.
    pub cert_pem: String,
    /// Private key, PEM.
    pub key_pem: String,
}

impl TlsIdentity {
    /// Loads the identity, or generates one valid for `names` (DNS names or IP addresses).
    pub fn load(source: &TlsSource, names: &[String]) -> Result<Self, String> {
        match source {
            TlsSource::Generate => {
                let names = names.to_vec();
                let certified = rcgen::generate_simple_self_signed(names)
                    .map_err(|error| format!("generating the Pub/Sub certificate: {error}"))?;
                Ok(Self {
                    cert_pem: certified.cert.pem(),
                    key_pem: certified.signing_key.serialize_pem(),
                })
            }
            TlsSource::Files { cert, key } => {
                let read = |path: &PathBuf| {
                    std::fs::read_to_string(path)
                        .map_err(|error| format!("reading {}: {error}", path.display()))
                };
                Ok(Self {
                    cert_pem: read(cert)?,
                    key_pem: read(key)?,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_a_pem_certificate_and_key() {
        let names = ["localhost".to_string(), "10.0.0.1".to_string()];
        let identity = TlsIdentity::load(&TlsSource::Generate, &names).expect("generated");
        assert!(identity.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(identity.key_pem.contains("PRIVATE KEY"));
    }
}
