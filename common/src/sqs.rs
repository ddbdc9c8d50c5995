//! The SQS client every role uses.
//!
//! Configuration comes from the AWS SDK's own environment: `AWS_REGION`,
//! `AWS_ENDPOINT_URL_SQS` (the local emulator in development and tests) and the default
//! credential chain. TLS is rustls with ring only, which keeps aws-lc out of the build.
//! Every call gets an explicit timeout: an SQS call that hangs must turn into an error the
//! caller can answer (503 to Stripe, retry in the bridge), never into a stuck request.

use std::time::Duration;

use aws_config::{retry::RetryConfig, timeout::TimeoutConfig, BehaviorVersion};
use aws_smithy_http_client::tls;

/// Timeouts and retries for one SQS client.
#[derive(Debug, Clone, Copy)]
pub struct SqsClientSettings {
    /// Upper bound for one operation including the SDK's own retries.
    pub operation_timeout: Duration,
    /// Upper bound for one HTTP attempt.
    pub attempt_timeout: Duration,
    /// Attempts per operation (1 = no SDK retries).
    pub max_attempts: u32,
}

impl Default for SqsClientSettings {
    fn default() -> Self {
        Self {
            operation_timeout: Duration::from_secs(5),
            attempt_timeout: Duration::from_secs(2),
            max_attempts: 3,
        }
    }
}

/// Builds an SQS client from the environment with the given timeouts.
pub async fn client_from_env(settings: SqsClientSettings) -> aws_sdk_sqs::Client {
    let http = https_client();
    let timeouts = TimeoutConfig::builder()
        .operation_timeout(settings.operation_timeout)
        .operation_attempt_timeout(settings.attempt_timeout)
        .connect_timeout(Duration::from_secs(2))
        .build();
    let config = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .timeout_config(timeouts)
        .retry_config(RetryConfig::standard().with_max_attempts(settings.max_attempts))
        .load()
        .await;
    aws_sdk_sqs::Client::new(&config)
}

/// The HTTP client the AWS SDK uses: rustls with ring, no aws-lc.
pub fn https_client() -> aws_sdk_sqs::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// True for a FIFO queue, whose URL ends in `.fifo`; FIFO queues need a message group id
/// and a deduplication id on every message.
pub fn is_fifo_queue(queue_url: &str) -> bool {
    queue_url.ends_with(".fifo")
}
