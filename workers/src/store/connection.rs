//! One connection type for a single Redis node and for a Redis Cluster.
//!
//! `REDIS_URL` names one node (`redis://host:6379`) or, separated by commas, the seed nodes
//! of a cluster (`redis://a:7000,redis://b:7001`; a trailing comma names a cluster reached
//! through one configuration endpoint, as ElastiCache offers). Everything else in the fleet
//! talks to a [`RedisConnection`] and does not care which it is: commands are routed by
//! their keys' slot, which is why every command and every Lua script keeps its keys under
//! one hash tag (see [`KeySpace`](crate::keys::KeySpace)).

use std::{sync::Arc, time::Duration};

use redis::{
    aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig},
    cluster::ClusterClient,
    cluster_async::ClusterConnection,
    Cmd, Pipeline, RedisFuture, RedisResult, Value,
};
use tokio::sync::OnceCell;

/// How long a connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one answer may take (blocking reads wait at most a second).
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the fleet's Redis is: one node or the seed nodes of a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisTarget {
    /// One node (or a primary with replicas behind a failover endpoint).
    Node(String),
    /// A Redis Cluster, reached through any of these nodes.
    Cluster(Vec<String>),
}

impl RedisTarget {
    /// Reads `REDIS_URL`: one URL, or a comma-separated list meaning a cluster.
    pub fn parse(url: &str) -> Self {
        if url.contains(',') {
            Self::Cluster(
                url.split(',')
                    .map(str::trim)
                    .filter(|node| !node.is_empty())
                    .map(str::to_owned)
                    .collect(),
            )
        } else {
            Self::Node(url.trim().to_owned())
        }
    }
}

/// A cheap-to-clone, self-reconnecting connection to a node or a cluster.
#[derive(Clone)]
pub enum RedisConnection {
    /// One node through a connection manager that reconnects with backoff.
    Node(ConnectionManager),
    /// A cluster, connected on first use (a process may start before the cluster is up).
    Cluster(Arc<LazyCluster>),
}

/// A cluster connection made on first use and shared by the clones.
pub struct LazyCluster {
    client: ClusterClient,
    connection: OnceCell<ClusterConnection>,
}

impl LazyCluster {
    async fn get(&self) -> RedisResult<ClusterConnection> {
        self.connection
            .get_or_try_init(|| self.client.get_async_connection())
            .await
            .cloned()
    }
}

impl RedisConnection {
    /// True on a Redis Cluster: a pipeline must then stay within one slot.
    pub fn is_cluster(&self) -> bool {
        matches!(self, Self::Cluster(_))
    }
}

/// Opens a connection that reconnects by itself after Redis restarts or fails over. It
/// connects lazily: a process may start while Redis is still down.
pub fn connect(url: &str) -> RedisResult<RedisConnection> {
    match RedisTarget::parse(url) {
        RedisTarget::Node(url) => {
            let client = redis::Client::open(url)?;
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(CONNECT_TIMEOUT))
                .set_response_timeout(Some(RESPONSE_TIMEOUT))
                .set_number_of_retries(2)
                .set_max_delay(Duration::from_secs(1));
            Ok(RedisConnection::Node(
                ConnectionManager::new_lazy_with_config(client, config)?,
            ))
        }
        RedisTarget::Cluster(nodes) => {
            let client = ClusterClient::builder(nodes)
                .connection_timeout(CONNECT_TIMEOUT)
                .response_timeout(RESPONSE_TIMEOUT)
                .retries(6)
                .build()?;
            Ok(RedisConnection::Cluster(Arc::new(LazyCluster {
                client,
                connection: OnceCell::new(),
            })))
        }
    }
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Node(manager) => manager.req_packed_command(cmd),
            Self::Cluster(cluster) => Box::pin(async move {
                let mut connection = cluster.get().await?;
                connection.req_packed_command(cmd).await
            }),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Node(manager) => manager.req_packed_commands(pipeline, offset, count),
            Self::Cluster(cluster) => Box::pin(async move {
                let mut connection = cluster.get().await?;
                connection
                    .req_packed_commands(pipeline, offset, count)
                    .await
            }),
        }
    }

    fn get_db(&self) -> i64 {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_of_urls_names_a_cluster() {
        assert_eq!(
            RedisTarget::parse("redis://localhost:6379"),
            RedisTarget::Node("redis://localhost:6379".into())
        );
        assert_eq!(
            RedisTarget::parse("redis://a:7000, redis://b:7001"),
            RedisTarget::Cluster(vec!["redis://a:7000".into(), "redis://b:7001".into()])
        );
        assert_eq!(
            RedisTarget::parse("redis://config-endpoint:6379,"),
            RedisTarget::Cluster(vec!["redis://config-endpoint:6379".into()])
        );
    }
}
