//! `moto` in server mode (PyPI, pinned in `scripts/moto/requirements.txt`, installed into
//! `scripts/moto/.venv` by `scripts/setup-test-deps.sh`): AWS Secrets Manager for the tests
//! that read the fleet's secrets from it, over the real AWS JSON protocol.

use std::time::Duration;

use serde_json::{json, Value};

use super::{free_port, http_client, repo_root, wait_for_port, HarnessError, ServiceProcess};

/// A running moto server owned by one test.
pub struct MotoServer {
    _process: ServiceProcess,
    port: u16,
    http: reqwest::Client,
}

/// Starts `moto_server` on `port` (every AWS service it simulates on one port) and waits
/// until it accepts connections.
pub(super) async fn spawn_moto(port: u16) -> Result<ServiceProcess, HarnessError> {
    let server = repo_root().join("scripts/moto/.venv/bin/moto_server");
    if !server.is_file() {
        return Err(HarnessError::Missing(format!(
            "moto is not installed at {}; run scripts/setup-test-deps.sh",
            server.display()
        )));
    }
    let port_arg = port.to_string();
    let process =
        ServiceProcess::spawn("moto", &server, &["-H", "127.0.0.1", "-p", &port_arg], &[])?;
    if !wait_for_port(port, Duration::from_secs(30)).await {
        return Err(HarnessError::Missing(format!(
            "moto did not listen on {port}; log: {}",
            process.log_contents()
        )));
    }
    Ok(process)
}

impl MotoServer {
    /// Starts moto on a free port and waits until it accepts connections.
    pub async fn start() -> Result<Self, HarnessError> {
        let port = free_port();
        let process = spawn_moto(port).await?;
        Ok(Self {
            _process: process,
            port,
            http: http_client(),
        })
    }

    /// `http://127.0.0.1:port`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What a role needs to reach moto's Secrets Manager with the default AWS chain.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", self.endpoint()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ACCESS_KEY_ID", "test".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ]
    }

    /// Creates the secret `name` with `text`, or gives it a new current version (a rotation).
    pub async fn put_secret(&self, name: &str, text: &str) -> Result<(), HarnessError> {
        let created = self
            .call(
                "CreateSecret",
                json!({ "Name": name, "SecretString": text }),
            )
            .await?;
        if created.get("ARN").is_some() {
            return Ok(());
        }
        self.call(
            "PutSecretValue",
            json!({ "SecretId": name, "SecretString": text }),
        )
        .await
        .and_then(|answer| match answer.get("VersionId") {
            Some(_) => Ok(()),
            None => Err(HarnessError::Missing(format!(
                "moto refused the secret: {answer}"
            ))),
        })
    }

    /// One Secrets Manager action (moto checks no signature, only the protocol).
    async fn call(&self, action: &str, body: Value) -> Result<Value, HarnessError> {
        let answer = self
            .http
            .post(self.endpoint())
            .header("X-Amz-Target", format!("secretsmanager.{action}"))
            .header("Content-Type", "application/x-amz-json-1.1")
            .header(
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=0",
            )
            .body(body.to_string())
            .send()
            .await
            .map_err(|error| HarnessError::Missing(format!("moto unreachable: {error}")))?;
        answer
            .json()
            .await
            .map_err(|error| HarnessError::Missing(format!("moto answered no JSON: {error}")))
    }
}
