//! The `sfsim` binary: configured from the environment (schema from an SFDX directory), serving, and stopping cleanly on
//! SIGTERM.

use std::time::Duration;

use testkit::harness::{binary, free_port, wait_for_http, ServiceProcess};

#[tokio::test]
async fn binary_reads_its_environment_and_stops_on_sigterm() {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let pubsub_addr = format!("127.0.0.1:{}", free_port());
    let cert_out = std::env::temp_dir().join(format!("sfsim-pubsub-{port}.pem"));
    let cert_out_text = cert_out.display().to_string();
    let mut process = ServiceProcess::spawn(
        "sfsim",
        binary("sfsim"),
        &[],
        &[
            ("SFSIM_LISTEN_ADDR", addr.as_str()),
            ("SALESFORCE_CLIENT_ID", "env-id"),
            ("SALESFORCE_CLIENT_SECRET", "env-secret"),
            ("SFSIM_DAILY_API_LIMIT", "42"),
            ("SFSIM_PUBSUB_ADDR", pubsub_addr.as_str()),
            ("SFSIM_PUBSUB_CERT_OUT", cert_out_text.as_str()),
            (
                "SFSIM_SCHEMA_DIR",
                concat!(env!("CARGO_MANIFEST_DIR"), "/../salesforce"),
            ),
        ],
    )
    .unwrap();
    let base = format!("http://{addr}");
    wait_for_http(&format!("{base}/__sim/health"), Duration::from_secs(20))
        .await
        .unwrap();
    let client = testkit::harness::http_client();
    let login = client
        .post(format!("{base}/services/oauth2/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "env-id"),
            ("client_secret", "env-secret"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let token: serde_json::Value = login.json().await.unwrap();
    let limits = client
        .get(format!("{base}/services/data/v62.0/limits"))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(limits.headers()["sforce-limit-info"], "api-usage=1/42");
    // The Pub/Sub API listens where told and its certificate was written for clients.
    tokio::net::TcpStream::connect(&pubsub_addr)
        .await
        .expect("Pub/Sub port open");
    let pem = std::fs::read_to_string(&cert_out).expect("certificate written");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let served = client
        .get(format!("{base}/__sim/pubsub/cert"))
        .send()
        .await
        .unwrap();
    assert_eq!(served.text().await.unwrap(), pem);
    let _ = std::fs::remove_file(&cert_out);
    let status = process
        .terminate(Duration::from_secs(10))
        .expect("exits after SIGTERM");
    assert!(
        status.success(),
        "graceful exit: {status:?}; log: {}",
        process.log_contents()
    );
}
