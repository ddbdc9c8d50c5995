//! The SQS emulator (`local-aws-sqs`, pinned in `scripts/sqs-emulator/`, or moto's SQS with
//! `SQS_EMULATOR=moto`) on a free port.
//!
//! Tests talk to it with the real AWS SDK over the real SQS protocol; nothing is mocked.
//! `scripts/test.sh` installs the emulator with `npm ci` before the tests run.

use std::{collections::HashMap, time::Duration};

use aws_sdk_sqs::{
    config::{BehaviorVersion, Credentials, Region},
    types::{MessageSystemAttributeName, QueueAttributeName},
};

use super::{free_port, repo_root, wait_for_port, HarnessError, ServiceProcess};

/// Starts `local-aws-sqs` (installed by `npm ci`) on `port`.
fn spawn_node_emulator(port: u16) -> Result<ServiceProcess, HarnessError> {
    let dir = repo_root().join("scripts/sqs-emulator");
    if !dir.join("node_modules/local-aws-sqs").is_dir() {
        return Err(HarnessError::Missing(format!(
            "the SQS emulator is not installed; run `npm ci --prefix {}` or scripts/test.sh",
            dir.display()
        )));
    }
    let script = dir.join("server.mjs").to_string_lossy().into_owned();
    let port_arg = port.to_string();
    ServiceProcess::spawn("sqs-emulator", "node", &[&script, "--port", &port_arg], &[])
}

/// Region and fake credentials the emulator accepts (it checks neither).
const REGION: &str = "us-east-1";

/// One message as a consumer sees it.
#[derive(Debug, Clone)]
pub struct ReceivedMessage {
    /// The message body.
    pub body: String,
    /// String values of the message attributes.
    pub attributes: HashMap<String, String>,
    /// FIFO queues: the message group id.
    pub group_id: Option<String>,
    /// FIFO queues: the deduplication id.
    pub deduplication_id: Option<String>,
}

/// A running emulator owned by one test.
pub struct SqsEmulator {
    process: ServiceProcess,
    port: u16,
    client: aws_sdk_sqs::Client,
}

impl SqsEmulator {
    /// Starts the emulator and waits until it accepts connections: the Node emulator, or
    /// moto's SQS with `SQS_EMULATOR=moto` (scripts/test.sh runs the ingress and bridge tests
    /// with both). Both end a long poll as soon as messages arrive, as SQS does (the Node
    /// emulator as corrected by `scripts/sqs-emulator/server.mjs`).
    pub async fn start() -> Result<Self, HarnessError> {
        let port = free_port();
        let process = if std::env::var("SQS_EMULATOR").as_deref() == Ok("moto") {
            super::moto::spawn_moto(port).await?
        } else {
            spawn_node_emulator(port)?
        };
        let emulator = Self {
            process,
            port,
            client: client_for(&format!("http://127.0.0.1:{port}")),
        };
        emulator.wait_ready().await?;
        Ok(emulator)
    }

    async fn wait_ready(&self) -> Result<(), HarnessError> {
        let waited = Duration::from_secs(15);
        if wait_for_port(self.port, waited).await {
            Ok(())
        } else {
            Err(HarnessError::NotReady {
                what: "sqs-emulator".into(),
                waited,
                log: self.process.log_path().display().to_string(),
            })
        }
    }

    /// `http://127.0.0.1:PORT`, the value for `AWS_ENDPOINT_URL_SQS`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The environment a project binary needs to reach this emulator.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL_SQS", self.endpoint()),
            ("AWS_REGION", REGION.to_owned()),
            ("AWS_ACCESS_KEY_ID", "test".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ]
    }

    /// A client for the emulator, for tests to inspect queues.
    pub fn client(&self) -> &aws_sdk_sqs::Client {
        &self.client
    }

    /// Creates a standard queue and returns its URL.
    pub async fn create_queue(&self, name: &str) -> Result<String, HarnessError> {
        self.create(name, HashMap::new()).await
    }

    /// Creates a FIFO queue (`name` must end in `.fifo`) and returns its URL.
    pub async fn create_fifo_queue(&self, name: &str) -> Result<String, HarnessError> {
        let attributes = HashMap::from([(QueueAttributeName::FifoQueue, "true".to_owned())]);
        self.create(name, attributes).await
    }

    async fn create(
        &self,
        name: &str,
        attributes: HashMap<QueueAttributeName, String>,
    ) -> Result<String, HarnessError> {
        let output = self
            .client
            .create_queue()
            .queue_name(name)
            .set_attributes(Some(attributes))
            .send()
            .await
            .map_err(|e| {
                HarnessError::Sqs(aws_sdk_sqs::error::DisplayErrorContext(&e).to_string())
            })?;
        output
            .queue_url
            .ok_or_else(|| HarnessError::Sqs("CreateQueue returned no URL".into()))
    }

    /// Messages visible in the queue, as SQS counts them.
    pub async fn visible_messages(&self, queue_url: &str) -> Result<usize, HarnessError> {
        let output = self
            .client
            .get_queue_attributes()
            .queue_url(queue_url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .map_err(|e| {
                HarnessError::Sqs(aws_sdk_sqs::error::DisplayErrorContext(&e).to_string())
            })?;
        Ok(output
            .attributes
            .and_then(|a| {
                a.get(&QueueAttributeName::ApproximateNumberOfMessages)
                    .cloned()
            })
            .and_then(|n| n.parse().ok())
            .unwrap_or(0))
    }

    /// Receives and deletes every message until the queue stays empty for `quiet`.
    pub async fn drain(
        &self,
        queue_url: &str,
        quiet: Duration,
    ) -> Result<Vec<ReceivedMessage>, HarnessError> {
        let mut messages = Vec::new();
        loop {
            // The emulator reads the older `AttributeNames` parameter; real SQS reads
            // `MessageSystemAttributeNames`. Sending both works with either.
            #[expect(
                deprecated,
                reason = "the emulator reads only the deprecated AttributeNames parameter"
            )]
            let request = self
                .client
                .receive_message()
                .queue_url(queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(i32::try_from(quiet.as_secs()).unwrap_or(1).max(1))
                .message_attribute_names("All")
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .attribute_names(QueueAttributeName::All);
            let output = request.send().await.map_err(|e| {
                HarnessError::Sqs(aws_sdk_sqs::error::DisplayErrorContext(&e).to_string())
            })?;
            let batch = output.messages.unwrap_or_default();
            if batch.is_empty() {
                return Ok(messages);
            }
            for message in batch {
                if let Some(handle) = &message.receipt_handle {
                    self.client
                        .delete_message()
                        .queue_url(queue_url)
                        .receipt_handle(handle)
                        .send()
                        .await
                        .map_err(|e| {
                            HarnessError::Sqs(
                                aws_sdk_sqs::error::DisplayErrorContext(&e).to_string(),
                            )
                        })?;
                }
                let system = message.attributes.unwrap_or_default();
                messages.push(ReceivedMessage {
                    body: message.body.unwrap_or_default(),
                    attributes: message
                        .message_attributes
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|(k, v)| v.string_value.map(|s| (k, s)))
                        .collect(),
                    group_id: system
                        .get(&MessageSystemAttributeName::MessageGroupId)
                        .cloned(),
                    deduplication_id: system
                        .get(&MessageSystemAttributeName::MessageDeduplicationId)
                        .cloned(),
                });
            }
        }
    }

    /// Kills the emulator (its queues are lost with it: it keeps them in memory).
    pub fn kill(&mut self) {
        self.process.kill();
    }
}

/// An SDK client pointed at `endpoint` with the emulator's fake credentials.
pub fn client_for(endpoint: &str) -> aws_sdk_sqs::Client {
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new("test", "test", None, None, "testkit"))
        .http_client(common::sqs::https_client())
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}
