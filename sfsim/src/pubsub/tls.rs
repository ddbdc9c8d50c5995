//! The Pub/Sub server's TLS identity: a PEM certificate and key read from files, or a
//! self-signed certificate for `localhost` / `127.0.0.1` generated at start (clients trust
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
    /// Loads or generates the identity.
    pub fn load(source: &TlsSource) -> Result<Self, String> {
        match source {
            TlsSource::Generate => {
                let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
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
        let identity = TlsIdentity::load(&TlsSource::Generate).expect("generated");
        assert!(identity.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(identity.key_pem.contains("PRIVATE KEY"));
    }
}
