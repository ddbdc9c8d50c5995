//! The `stripesim` binary: configured from the environment (listen address, the one
//! accepted key, the account's API version), Stripe's default rate limit, serving, and stopping cleanly on SIGTERM.

use std::time::Duration;

use testkit::harness::{binary, free_port, wait_for_http, ServiceProcess};

#[tokio::test]
async fn binary_reads_its_environment_and_stops_on_sigterm() {
    let addr = format!("127.0.0.1:{}", free_port());
    let mut process = ServiceProcess::spawn(
        "stripesim",
        binary("stripesim"),
        &[],
        &[
            ("STRIPESIM_LISTEN_ADDR", addr.as_str()),
            ("STRIPE_API_KEY", "sk_test_from_env"),
            ("STRIPESIM_API_VERSION", "2024-06-20"),
        ],
    )
    .unwrap();
    let base = format!("http://{addr}");
    wait_for_http(&format!("{base}/__sim/webhooks"), Duration::from_secs(20))
        .await
        .unwrap();
    let client = testkit::harness::http_client();
    let other = client
        .get(format!("{base}/v1/customers"))
        .bearer_auth("sk_test_another_key")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 401);
    let accepted = client
        .get(format!("{base}/v1/customers"))
        .bearer_auth("sk_test_from_env")
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 200);
    assert_eq!(accepted.headers()["stripe-version"], "2024-06-20");

    // Stripe's sandbox budget by default: 25 requests per second.
    let started = std::time::Instant::now();
    let mut admitted = 0;
    let mut refused = 0;
    for _ in 0..40 {
        let reply = client
            .get(format!("{base}/v1/events"))
            .bearer_auth("sk_test_from_env")
            .send()
            .await
            .unwrap();
        match reply.status().as_u16() {
            200 => admitted += 1,
            429 => refused += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(refused > 0, "the default budget refuses a burst of 40");
    if started.elapsed() < Duration::from_millis(900) {
        assert_eq!(admitted, 24, "25 per second, one spent on /v1/customers");
    }
    let status = process
        .terminate(Duration::from_secs(10))
        .expect("exits after SIGTERM");
    assert!(
        status.success(),
        "graceful exit: {status:?}; log: {}",
        process.log_contents()
    );
}
