//! The Salesforce settings of the consumers: endpoint, API version, timeouts, and the
//! credentials of one of two OAuth flows.

use std::{fmt, sync::Arc, time::Duration};

use clap::{Args, ValueEnum};
use common::config::{positive_millis, positive_secs, ConfigError};
use salesforce_client::{jwt::AssertionSigner, ClientCredentials, Grant, SalesforceSettings};

/// The OAuth flow the fleet logs in with (`SALESFORCE_AUTH`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthFlow {
    /// Client credentials: the Connected App's key and secret.
    #[value(name = "client_credentials")]
    ClientCredentials,
    /// JWT bearer: an assertion for the integration user, signed with the app's key.
    #[value(name = "jwt")]
    Jwt,
}

/// A private key read and parsed at start (`SALESFORCE_JWT_KEY_FILE`).
pub type SigningKey = Arc<AssertionSigner>;

/// Salesforce endpoint and credentials, shared by the realtime and bulk consumers.
#[derive(Clone, Args)]
pub struct SalesforceConfig {
    /// The org's My Domain URL, or the simulator's.
    #[arg(long = "salesforce-login-url", env = "SALESFORCE_LOGIN_URL")]
    pub login_url: String,
    /// The Connected App's consumer key.
    #[arg(long = "salesforce-client-id", env = "SALESFORCE_CLIENT_ID")]
    pub client_id: String,
    /// The OAuth flow: `client_credentials` (needs SALESFORCE_CLIENT_SECRET) or `jwt`, the
    /// JWT bearer flow (needs SALESFORCE_USERNAME and SALESFORCE_JWT_KEY_FILE; no secret).
    #[arg(
        long = "salesforce-auth",
        env = "SALESFORCE_AUTH",
        value_enum,
        default_value = "client_credentials"
    )]
    pub auth: AuthFlow,
    /// The Connected App's consumer secret (client credentials flow).
    #[arg(
        long = "salesforce-client-secret",
        env = "SALESFORCE_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub client_secret: Option<String>,
    /// The integration user (JWT bearer flow).
    #[arg(long = "salesforce-username", env = "SALESFORCE_USERNAME")]
    pub username: Option<String>,
    /// The Connected App's private key, a PKCS#8 PEM file read at start (JWT bearer flow).
    #[arg(
        long = "salesforce-jwt-key-file",
        env = "SALESFORCE_JWT_KEY_FILE",
        value_parser = signing_key
    )]
    pub jwt_key: Option<SigningKey>,
    /// The JWT assertion's audience (JWT bearer flow); `https://test.salesforce.com` for a
    /// sandbox.
    #[arg(
        long = "salesforce-jwt-audience",
        env = "SALESFORCE_JWT_AUDIENCE",
        default_value = "https://login.salesforce.com"
    )]
    pub jwt_audience: String,
    /// REST and Bulk API version.
    #[arg(
        long = "salesforce-api-version",
        env = "SALESFORCE_API_VERSION",
        default_value = "v62.0"
    )]
    pub api_version: String,
    /// Milliseconds one Salesforce call may take.
    #[arg(
        long = "salesforce-timeout-ms",
        env = "SALESFORCE_TIMEOUT_MS",
        default_value = "30000",
        value_parser = positive_millis
    )]
    pub request_timeout: Duration,
    /// Seconds a shared token is reused before a fresh login (Salesforce sends no expiry).
    #[arg(
        long = "salesforce-token-ttl-secs",
        env = "SALESFORCE_TOKEN_TTL_SECS",
        default_value = "3600",
        value_parser = positive_secs
    )]
    pub token_lifetime: Duration,
}

impl fmt::Debug for SalesforceConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the secret or the key.
        f.debug_struct("SalesforceConfig")
            .field("login_url", &self.login_url)
            .field("client_id", &self.client_id)
            .field("auth", &self.auth)
            .field("username", &self.username)
            .field("api_version", &self.api_version)
            .finish_non_exhaustive()
    }
}

impl SalesforceConfig {
    /// The client's settings, once the chosen flow has what it needs; else an error naming
    /// the missing variable. Checked in `main` before anything starts.
    pub fn settings(&self) -> Result<SalesforceSettings, ConfigError> {
        let grant = match self.auth {
            AuthFlow::ClientCredentials => Grant::ClientSecret(required(
                &self.client_secret,
                "SALESFORCE_CLIENT_SECRET",
                "the Connected App's consumer secret",
            )?),
            AuthFlow::Jwt => Grant::JwtBearer {
                username: required(
                    &self.username,
                    "SALESFORCE_USERNAME",
                    "the integration user for the JWT bearer flow",
                )?,
                audience: self.jwt_audience.clone(),
                signer: required(
                    &self.jwt_key,
                    "SALESFORCE_JWT_KEY_FILE",
                    "the Connected App's private key (PKCS#8 PEM)",
                )?,
            },
        };
        Ok(SalesforceSettings {
            credentials: ClientCredentials {
                login_url: self.login_url.clone(),
                client_id: self.client_id.clone(),
                grant,
            },
            api_version: self.api_version.clone(),
            request_timeout: self.request_timeout,
            token_lifetime: self.token_lifetime,
        })
    }
}

fn required<T: Clone>(value: &Option<T>, variable: &str, what: &str) -> Result<T, ConfigError> {
    value.clone().ok_or_else(|| {
        ConfigError::new(
            variable,
            format!("required with this SALESFORCE_AUTH ({what})"),
        )
    })
}

/// `SALESFORCE_JWT_KEY_FILE`: read and parsed at start.
fn signing_key(path: &str) -> Result<SigningKey, String> {
    let pem = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    AssertionSigner::from_pem(&pem)
        .map(Arc::new)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Settings {
        #[command(flatten)]
        salesforce: SalesforceConfig,
    }

    fn settings(vars: &[(&str, &str)]) -> Result<SalesforceSettings, String> {
        let mut all = vec![
            ("SALESFORCE_LOGIN_URL", "http://sf"),
            ("SALESFORCE_CLIENT_ID", "id"),
        ];
        all.extend_from_slice(vars);
        let parsed: Settings = common::config::parse_vars(&all).map_err(|e| e.to_string())?;
        parsed.salesforce.settings().map_err(|e| e.to_string())
    }

    #[test]
    fn client_credentials_by_default_and_the_secret_is_required() {
        let parsed = settings(&[("SALESFORCE_CLIENT_SECRET", "s3cret")]).unwrap();
        assert!(matches!(parsed.credentials.grant, Grant::ClientSecret(ref s) if s == "s3cret"));
        assert_eq!(parsed.api_version, "v62.0");
        assert_eq!(parsed.request_timeout, Duration::from_secs(30));
        assert_eq!(parsed.token_lifetime, Duration::from_secs(3600));
        let error = settings(&[]).unwrap_err();
        assert!(error.starts_with("SALESFORCE_CLIENT_SECRET"), "{error}");
    }

    #[test]
    fn jwt_needs_a_user_and_a_readable_key() {
        let error =
            settings(&[("SALESFORCE_AUTH", "jwt"), ("SALESFORCE_USERNAME", "u")]).unwrap_err();
        assert!(error.starts_with("SALESFORCE_JWT_KEY_FILE"), "{error}");
        let error = settings(&[
            ("SALESFORCE_AUTH", "jwt"),
            ("SALESFORCE_JWT_KEY_FILE", "/nonexistent/key.pem"),
        ])
        .unwrap_err();
        assert!(error.contains("SALESFORCE_JWT_KEY_FILE"), "{error}");
        let error = settings(&[("SALESFORCE_AUTH", "password")]).unwrap_err();
        assert!(error.contains("SALESFORCE_AUTH"), "{error}");
    }
}
