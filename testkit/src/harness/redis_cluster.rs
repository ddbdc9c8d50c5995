//! A private Redis Cluster: three masters with a replica each, on free ports, built the way
//! an operator builds one (`redis-server --cluster-enabled yes`, `redis-cli --cluster
//! create`). A test may kill a master and wait for its replica to take over.

use std::time::Duration;

use super::{free_port, wait_for, HarnessError, ServiceProcess};

/// How long a master may be unreachable before its replica is promoted.
pub const NODE_TIMEOUT: Duration = Duration::from_millis(2000);

/// One node of the cluster.
struct Node {
    process: ServiceProcess,
    port: u16,
    _dir: super::redis::TempDir,
}

/// A six-node cluster (three masters, one replica each) owned by one test.
pub struct RedisCluster {
    nodes: Vec<Node>,
}

impl RedisCluster {
    /// Starts the six nodes, joins them with `redis-cli --cluster create --cluster-replicas
    /// 1`, and waits until every node reports `cluster_state:ok`.
    pub async fn start() -> Result<Self, HarnessError> {
        let mut nodes = Vec::new();
        for _ in 0..6 {
            nodes.push(Self::start_node().await?);
        }
        let cluster = Self { nodes };
        let mut create = tokio::process::Command::new("redis-cli");
        create.arg("--cluster").arg("create");
        for node in &cluster.nodes {
            create.arg(format!("127.0.0.1:{}", node.port));
        }
        let output = create
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .output()
            .await
            .map_err(|source| HarnessError::Spawn {
                what: "redis-cli --cluster create".into(),
                source,
            })?;
        if !output.status.success() {
            return Err(HarnessError::Missing(format!(
                "redis-cli --cluster create failed: {}",
                String::from_utf8_lossy(&output.stdout)
            )));
        }
        cluster.wait_healthy().await?;
        cluster.wait_replicated().await?;
        Ok(cluster)
    }

    /// Waits until every replica's link to its master is up (its first sync done): a
    /// replica that never synced would be promoted empty.
    async fn wait_replicated(&self) -> Result<(), HarnessError> {
        let ports: Vec<u16> = self.nodes.iter().map(|node| node.port).collect();
        let waited = Duration::from_secs(30);
        wait_for("replicas in sync", waited, || {
            let ports = ports.clone();
            async move {
                let mut linked = 0;
                for port in ports {
                    let output = tokio::process::Command::new("redis-cli")
                        .args(["-p", &port.to_string(), "INFO", "replication"])
                        .output()
                        .await
                        .ok()?;
                    if String::from_utf8_lossy(&output.stdout).contains("master_link_status:up") {
                        linked += 1;
                    }
                }
                (linked == 3).then_some(())
            }
        })
        .await
        .map_err(|_| HarnessError::NotReady {
            what: "redis cluster replication".into(),
            waited,
            log: String::new(),
        })
    }

    /// Starts the node on `port` again (same port and `nodes.conf`): it rejoins the
    /// cluster, as a replica of whichever node took over its slots.
    pub async fn restart(&mut self, port: u16) -> Result<(), HarnessError> {
        if let Some(node) = self.nodes.iter_mut().find(|node| node.port == port) {
            node.process.restart()?;
        }
        self.wait_replicated().await
    }

    /// Starts one node and waits until it answers. The two ports come from
    /// [`free_port`], which another process may take before the node binds them; a node
    /// that cannot listen is started again on other ports (three tries).
    async fn start_node() -> Result<Node, HarnessError> {
        let mut tries = 0;
        loop {
            tries += 1;
            let node = Self::spawn_node()?;
            if wait_ready(node.port, "PING", "+PONG").await.is_ok() && answers_itself(&node).await {
                return Ok(node);
            }
            if tries == 3 {
                return Err(HarnessError::NotReady {
                    what: format!("redis cluster node on port {}", node.port),
                    waited: Duration::from_secs(10),
                    log: node.process.log_contents(),
                });
            }
        }
    }

    fn spawn_node() -> Result<Node, HarnessError> {
        let port = free_port();
        let bus = free_port();
        let dir = super::redis::TempDir::new(&format!("redis-cluster-{port}"))?;
        let path = dir.path.to_string_lossy().into_owned();
        let (port_arg, bus_arg) = (port.to_string(), bus.to_string());
        let timeout = NODE_TIMEOUT.as_millis().to_string();
        let args = [
            "--port",
            &port_arg,
            "--cluster-port",
            &bus_arg,
            "--bind",
            "127.0.0.1",
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            &timeout,
            // Replicas sync at once instead of waiting for more replicas to share a transfer.
            "--repl-diskless-sync-delay",
            "0",
            "--dir",
            &path,
            "--save",
            "",
            "--appendonly",
            "no",
        ];
        let process = ServiceProcess::spawn("redis-cluster", "redis-server", &args, &[])
            .map_err(|e| HarnessError::Missing(format!("{e}; install redis-server")))?;
        Ok(Node {
            process,
            port,
            _dir: dir,
        })
    }

    /// The seed list for `REDIS_URL`: every node, comma-separated.
    pub fn url(&self) -> String {
        self.nodes
            .iter()
            .map(|node| format!("redis://127.0.0.1:{}", node.port))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The ports of the nodes that are masters now (a killed node is not asked).
    pub async fn master_ports(&self) -> Vec<u16> {
        let mut masters = Vec::new();
        for node in &self.nodes {
            if let Ok(reply) = role(node.port).await {
                if reply == "master" {
                    masters.push(node.port);
                }
            }
        }
        masters
    }

    /// Kills (SIGKILL) the node on `port`; its replica is promoted after [`NODE_TIMEOUT`].
    pub fn kill(&mut self, port: u16) {
        if let Some(node) = self.nodes.iter_mut().find(|node| node.port == port) {
            node.process.kill();
        }
    }

    /// Waits until three live nodes are masters and every live node reports
    /// `cluster_state:ok`: after a master was killed, its replica was promoted and every
    /// slot is served again.
    pub async fn wait_healthy(&self) -> Result<(), HarnessError> {
        let ports: Vec<u16> = self.nodes.iter().map(|node| node.port).collect();
        let waited = Duration::from_secs(30);
        let healthy = wait_for("cluster_state:ok", waited, || {
            let ports = ports.clone();
            async move {
                let mut masters = 0;
                for port in ports {
                    match super::redis::inline_command(port, "CLUSTER INFO").await {
                        Ok(line) if line == "cluster_state:ok" => {}
                        Ok(_) => return None,
                        Err(_) => continue, // a killed node
                    }
                    if role(port).await.ok()? == "master" {
                        masters += 1;
                    }
                }
                (masters == 3).then_some(())
            }
        })
        .await;
        healthy.map_err(|_| HarnessError::NotReady {
            what: "redis cluster".into(),
            waited,
            log: self
                .nodes
                .first()
                .map(|node| node.process.log_path().display().to_string())
                .unwrap_or_default(),
        })
    }
}

async fn wait_ready(port: u16, command: &str, expected: &str) -> Result<(), String> {
    wait_for("redis node", Duration::from_secs(10), || async move {
        match super::redis::inline_command(port, command).await {
            Ok(reply) if reply == expected => Some(()),
            _ => None,
        }
    })
    .await
}

/// True if the server answering on the node's port is the node's own process (not
/// another one that held the port first).
async fn answers_itself(node: &Node) -> bool {
    let Some(pid) = node.process.pid() else {
        return false;
    };
    let output = tokio::process::Command::new("redis-cli")
        .args(["-p", &node.port.to_string(), "INFO", "server"])
        .output()
        .await;
    output.is_ok_and(|output| {
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .any(|line| line.trim() == format!("process_id:{pid}"))
    })
}

/// `master` or `slave`, from `redis-cli ROLE`.
async fn role(port: u16) -> std::io::Result<String> {
    let output = tokio::process::Command::new("redis-cli")
        .args(["-p", &port.to_string(), "ROLE"])
        .output()
        .await?;
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned())
}
