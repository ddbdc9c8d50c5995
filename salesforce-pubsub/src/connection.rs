//! Reaching the Pub/Sub API: a gRPC channel over TLS (Salesforce's endpoint,
//! `api.pubsub.salesforce.com:7443`, presents a publicly trusted certificate; a simulator
//! one of its own, given as a PEM file), and the three metadata entries that authenticate
//! every call (Salesforce, "Authentication and Authorization",
//! <https://developer.salesforce.com/docs/platform/pub-sub-api/guide/supported-auth.html>).

use std::fmt;

use tonic::transport::{Certificate, Channel, ClientTlsConfig};

use crate::proto::pub_sub_client::PubSubClient;

/// Where the Pub/Sub API is and which certificates to trust.
#[derive(Debug, Clone)]
pub struct PubSubEndpoint {
    /// `https://host:port`.
    pub url: String,
    /// An extra trusted CA certificate (PEM), for a simulator's self-made certificate.
    pub ca_pem: Option<Vec<u8>>,
    /// The name to verify the certificate against, when not the URL's host.
    pub domain: Option<String>,
}

/// Why a channel could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("Pub/Sub API at {url}: {message}")]
pub struct ConnectError {
    url: String,
    message: String,
}

impl PubSubEndpoint {
    /// Opens a TLS channel and wraps it in the generated client. The system's roots are
    /// trusted, plus [`ca_pem`](Self::ca_pem) when given.
    pub async fn connect(&self) -> Result<PubSubClient<Channel>, ConnectError> {
        let error = |message: String| ConnectError {
            url: self.url.clone(),
            message,
        };
        let mut tls = ClientTlsConfig::new().with_native_roots();
        if let Some(pem) = &self.ca_pem {
            tls = tls.ca_certificate(Certificate::from_pem(pem));
        }
        if let Some(domain) = &self.domain {
            tls = tls.domain_name(domain.clone());
        }
        let channel = Channel::from_shared(self.url.clone())
            .map_err(|e| error(e.to_string()))?
            .tls_config(tls)
            .map_err(|e| error(e.to_string()))?
            .connect()
            .await
            .map_err(|e| error(format!("{e}: {}", source_chain(&e))))?;
        // Change events of wide objects exceed tonic's 4 MiB default; Salesforce sends up to
        // its own event size limits.
        Ok(PubSubClient::new(channel).max_decoding_message_size(64 * 1024 * 1024))
    }
}

fn source_chain(error: &dyn std::error::Error) -> String {
    let mut chain = Vec::new();
    let mut source = error.source();
    while let Some(cause) = source {
        chain.push(cause.to_string());
        source = cause.source();
    }
    chain.join(": ")
}

/// The session a call runs as: an OAuth access token, the org's instance URL and its
/// 18-character organization id (`/services/oauth2/userinfo`'s `organization_id`).
#[derive(Clone, PartialEq, Eq)]
pub struct PubSubAuth {
    /// Bearer token of a Salesforce session.
    pub access_token: String,
    /// `https://MyDomain.my.salesforce.com`.
    pub instance_url: String,
    /// Organization id.
    pub tenant_id: String,
}

impl fmt::Debug for PubSubAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PubSubAuth")
            .field("access_token", &"<redacted>")
            .field("instance_url", &self.instance_url)
            .field("tenant_id", &self.tenant_id)
            .finish()
    }
}

impl PubSubAuth {
    /// `message` as a request carrying `accesstoken`, `instanceurl` and `tenantid`.
    pub fn request<T>(&self, message: T) -> Result<tonic::Request<T>, tonic::Status> {
        let mut request = tonic::Request::new(message);
        let metadata = request.metadata_mut();
        for (key, value) in [
            ("accesstoken", &self.access_token),
            ("instanceurl", &self.instance_url),
            ("tenantid", &self.tenant_id),
        ] {
            let value = value
                .parse()
                .map_err(|_| tonic::Status::invalid_argument(format!("{key} is not ASCII")))?;
            metadata.insert(key, value);
        }
        Ok(request)
    }
}
