//! Reading the secret from AWS Secrets Manager: once before a role starts (into its
//! environment), then on an interval for the parts of a role that can take a rotated value
//! while running.

use std::sync::OnceLock;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_sdk_secretsmanager::error::DisplayErrorContext;
use aws_sdk_secretsmanager::Client;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{parse, SecretValues, SecretsError, DEFAULT_REFRESH_SECS, REFRESH_VAR, SECRET_ID_VAR};
use crate::config::positive_secs;
use crate::sqs::https_client;

/// A Secrets Manager client from the default chain (credentials, region, endpoint).
pub async fn client() -> Client {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .load()
        .await;
    Client::new(&config)
}

/// Reads and parses the secret `id` (its current version).
pub async fn fetch(client: &Client, id: &str) -> Result<SecretValues, SecretsError> {
    let output = client
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .map_err(|error| SecretsError::Fetch {
            id: id.to_owned(),
            reason: DisplayErrorContext(&error).to_string(),
        })?;
    let text = output
        .secret_string()
        .ok_or_else(|| SecretsError::NotText { id: id.to_owned() })?;
    parse(id, text)
}

/// With `SECRETS_MANAGER_SECRET_ID` set: reads the secret and puts the values of `keys`
/// it holds into this process's environment, where the configuration parser finds them
/// (they win over variables of the same name). Call it first in `main`, before any
/// runtime or thread starts (setting the environment is only safe while the process has
/// one thread). Returns the watcher for re-reading, or `None` without a secret id.
pub fn load_before_start(keys: &[&str]) -> Result<Option<SecretWatcher>, SecretsError> {
    let Some(id) = std::env::var(SECRET_ID_VAR)
        .ok()
        .filter(|id| !id.is_empty())
    else {
        return Ok(None);
    };
    let interval = match std::env::var(REFRESH_VAR) {
        Err(_) => Duration::from_secs(DEFAULT_REFRESH_SECS),
        Ok(text) => positive_secs(&text).map_err(|_| SecretsError::BadRefresh)?,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| SecretsError::Fetch {
            id: id.clone(),
            reason: format!("no runtime to read it with: {error}"),
        })?;
    let values = runtime.block_on(async { fetch(&client().await, &id).await })?;
    // The runtime and its blocking threads end here, before the environment changes.
    drop(runtime);
    for key in keys {
        if let Some(value) = values.get(key) {
            std::env::set_var(key, value);
        }
    }
    let names: Vec<&str> = values.names().collect();
    tracing::debug!(secret_id = %id, ?names, "Read the secret from AWS Secrets Manager.");
    Ok(Some(SecretWatcher {
        id,
        interval,
        current: values,
    }))
}

/// Where [`SecretWatcher::spawn_published`] publishes the secret's changes.
static UPDATES: OnceLock<watch::Sender<SecretValues>> = OnceLock::new();

/// The secret's values as they change, for the parts of a role that can take a rotated
/// value while running (the workers' Salesforce login); `None` when this process reads no
/// secret from Secrets Manager.
pub fn updates() -> Option<watch::Receiver<SecretValues>> {
    UPDATES.get().map(watch::Sender::subscribe)
}

/// Re-reads the secret every interval and reports a changed value.
#[derive(Debug)]
pub struct SecretWatcher {
    id: String,
    interval: Duration,
    current: SecretValues,
}

impl SecretWatcher {
    /// Re-reads the secret every interval until `shutdown` and publishes every change to
    /// [`updates`]'s receivers (one watcher per process: a second one publishes nothing). A
    /// failed read is logged and retried at the next interval; the role keeps the values it
    /// has. Parts of the role take their key with [`follow`].
    pub fn spawn(self, shutdown: CancellationToken) -> JoinHandle<()> {
        let sender = UPDATES
            .get_or_init(|| watch::channel(self.current.clone()).0)
            .clone();
        tokio::spawn(async move {
            let client = client().await;
            let mut current = self.current;
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(self.interval) => {}
                }
                match fetch(&client, &self.id).await {
                    Ok(values) if values != current => {
                        let names: Vec<&str> = values.names().collect();
                        tracing::info!(secret_id = %self.id, ?names, "The secret changed; applying the new values.");
                        sender.send_replace(values.clone());
                        current = values;
                    }
                    Ok(_) => {}
                    Err(error) => {
                        tracing::warn!(%error, "Could not re-read the secret; keeping the values in use.");
                    }
                }
            }
        })
    }
}

/// Calls `on_change` with the new value of `key` each time a rotation changes it, until
/// `shutdown`; does nothing when this process reads no secret (no watcher was spawned).
/// A change of the secret's other keys is not one of `key`.
pub fn follow<F>(key: &'static str, shutdown: CancellationToken, on_change: F)
where
    F: Fn(&str) + Send + 'static,
{
    let Some(mut updates) = updates() else {
        return;
    };
    tokio::spawn(async move {
        let mut last = updates.borrow_and_update().get(key).map(str::to_owned);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                changed = updates.changed() => if changed.is_err() { return },
            }
            let value = updates.borrow_and_update().get(key).map(str::to_owned);
            if let Some(new) = value.as_deref().filter(|new| last.as_deref() != Some(*new)) {
                on_change(new);
            }
            last = value;
        }
    });
}
