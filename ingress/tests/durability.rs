//! Never acknowledge what is not durable: SQS down or silent means 503 with Retry-After and
//! nothing claimed; overload is shed quickly with 429; SIGTERM drains and exits 0; logs
//! carry neither secrets nor personal data.

mod support;

use std::time::Duration;

use support::{Stack, SECRET};
use testkit::harness::SqsEmulator;
use testkit::stripe::{unix_now, EventFactory};

#[tokio::test]
async fn sqs_down_is_answered_503_and_nothing_is_acknowledged() {
    let mut stack = Stack::start(false, &[("SQS_SEND_TIMEOUT_MS", "2000")]).await;
    let factory = EventFactory::new();
    let event = factory.event(
        "customer.created",
        factory.customer(unix_now()),
        None,
        unix_now(),
    );
    stack.sqs.kill();
    let answer = stack.post_signed(&event).await;
    assert_eq!(answer.status, 503, "{}", answer.json);
    assert_eq!(answer.json["error"], "not_stored");
    assert_eq!(answer.retry_after.as_deref(), Some("5"));
    let (status, body) = stack.get("/health/ready").await;
    assert_eq!(status, 503, "{body}");
    let (status, _) = stack.get("/health/live").await;
    assert_eq!(status, 200);
}

/// A TCP server that accepts connections and never answers: SQS hanging.
async fn black_hole() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (port, task)
}

#[tokio::test]
async fn silent_sqs_times_out_into_503_and_overload_is_shed_with_429() {
    let (port, _hole) = black_hole().await;
    let sqs = SqsEmulator::start().await.expect("emulator");
    let queue_url = format!("http://127.0.0.1:{port}/000000000000/stripe-events");
    let endpoint = format!("http://127.0.0.1:{port}");
    let stack = Stack::start_with_queue(
        sqs,
        queue_url,
        &[
            ("AWS_ENDPOINT_URL_SQS", endpoint.as_str()),
            ("SQS_SEND_TIMEOUT_MS", "1500"),
            ("MAX_IN_FLIGHT", "2"),
        ],
    )
    .await;
    let factory = EventFactory::new();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let event = factory.event(
            "customer.created",
            factory.customer(unix_now()),
            None,
            unix_now(),
        );
        let body = event.body();
        let header = testkit::stripe::sign(SECRET, unix_now(), &body);
        let request = stack
            .http
            .post(format!("{}/webhook/stripe", stack.base))
            .header("stripe-signature", header)
            .body(body);
        tasks.spawn(async move {
            let started = std::time::Instant::now();
            let response = request.send().await.expect("answer");
            let status = response.status().as_u16();
            let retry_after = response.headers().get("retry-after").is_some();
            (status, retry_after, started.elapsed())
        });
    }
    let mut timed_out = 0;
    let mut shed = 0;
    while let Some(result) = tasks.join_next().await {
        let (status, retry_after, _elapsed) = result.expect("task");
        assert!(retry_after, "status {status} without Retry-After");
        match status {
            503 => timed_out += 1,
            429 => shed += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(timed_out, 2, "only MAX_IN_FLIGHT requests wait for SQS");
    assert_eq!(shed, 6);
}

#[tokio::test]
async fn sigterm_finishes_and_exits_cleanly_and_logs_hold_no_secrets_or_personal_data() {
    let mut stack = Stack::start(false, &[]).await;
    let factory = EventFactory::new();
    let customer = factory.customer(unix_now());
    let email = customer["email"].as_str().expect("email").to_owned();
    let name = customer["name"].as_str().expect("name").to_owned();
    let event = factory.event("customer.created", customer, None, unix_now());
    assert_eq!(stack.post_signed(&event).await.status, 200);
    let status = stack
        .ingress
        .terminate(Duration::from_secs(10))
        .expect("exits after SIGTERM");
    assert!(status.success(), "exit status {status}");
    assert_eq!(stack.drain().await.len(), 1);
    let log = stack.ingress.log_contents();
    assert!(log.contains(&event.id), "the event id is logged");
    for secret in [SECRET, &email, &name, "+41 44 668 18 00"] {
        assert!(!log.contains(secret), "the log contains {secret:?}");
    }
}
