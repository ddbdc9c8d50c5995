//! The per-address limit on failed signature verifications, through HTTP against the real
//! binary: a forging address gets 400 until its allowance is used up, then 429 with
//! `Retry-After` before its signatures are even checked; other addresses, and Stripe's
//! valid requests among them, are not affected; and the allowance is per address, taken
//! from the socket peer or, when configured, from a trusted proxy header.

mod support;

use std::{
    net::IpAddr,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use support::{send, Answer, Stack, SECRET};
use testkit::stripe::{sign, unix_now, EventFactory, StripeEvent};

/// Documentation addresses (RFC 5737), only ever written into a header.
const FORGER: &str = "203.0.113.7";
const OTHER_FORGER: &str = "203.0.113.8";
const PROXY: &str = "192.0.2.1";
/// Stands in for one of Stripe's published webhook addresses.
const STRIPE: &str = "198.51.100.1";

/// Burst 3 and one cell back per minute: no allowance refills while a test runs.
const SMALL_ALLOWANCE: &[(&str, &str)] = &[
    ("INVALID_SIGNATURE_BURST", "3"),
    ("INVALID_SIGNATURE_PER_MINUTE", "1"),
];

fn with_header() -> Vec<(&'static str, &'static str)> {
    let mut env = SMALL_ALLOWANCE.to_vec();
    env.push(("TRUSTED_PROXY_HEADER", "X-Forwarded-For"));
    env
}

fn event(factory: &EventFactory) -> StripeEvent {
    factory.event(
        "customer.created",
        factory.customer(unix_now()),
        None,
        unix_now(),
    )
}

/// A request body and a header signed with a secret the ingress does not know.
fn forged(factory: &EventFactory) -> (String, String) {
    let body = event(factory).body();
    let header = sign("whsec_forger", unix_now(), &body);
    (body, header)
}

/// POSTs through the stack's client, as forwarded for `address` if given.
async fn post_as(stack: &Stack, address: Option<&str>, body: String, signature: &str) -> Answer {
    let mut request = stack.webhook(&stack.http, body, Some(signature));
    if let Some(address) = address {
        request = request.header("x-forwarded-for", address);
    }
    send(request).await
}

async fn post_forged(stack: &Stack, factory: &EventFactory, address: Option<&str>) -> Answer {
    let (body, header) = forged(factory);
    post_as(stack, address, body, &header).await
}

async fn post_valid(stack: &Stack, address: Option<&str>, event: &StripeEvent) -> Answer {
    let body = event.body();
    let header = sign(SECRET, unix_now(), &body);
    post_as(stack, address, body, &header).await
}

fn assert_verification_failed(answer: &Answer, what: &str) {
    assert_eq!(answer.status, 400, "{what}: {}", answer.json);
    assert_eq!(answer.json["error"], "signature_mismatch", "{what}");
}

fn assert_refused(answer: &Answer, what: &str) {
    assert_eq!(answer.status, 429, "{what}: {}", answer.json);
    assert_eq!(
        answer.json["error"], "too_many_invalid_signatures",
        "{what}"
    );
    assert!(
        answer.json["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{what}: {}",
        answer.json
    );
    let retry_after: u64 = answer
        .retry_after
        .as_deref()
        .unwrap_or_else(|| panic!("{what}: 429 without Retry-After"))
        .parse()
        .expect("Retry-After is whole seconds");
    assert!((1..=60).contains(&retry_after), "{what}: {retry_after}");
}

/// The value of an unlabelled metric in the `/metrics` text.
fn metric_value(metrics: &str, name: &str) -> Option<f64> {
    metrics.lines().find_map(|line| {
        line.strip_prefix(name)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

#[tokio::test]
async fn a_forging_address_gets_400_then_429_while_a_valid_sender_is_accepted_during_the_flood() {
    let stack = Arc::new(Stack::start(false, &with_header()).await);
    let factory = Arc::new(EventFactory::new());

    // The flood: one forging address, one request after another until the test stops it,
    // and at most 20,000 requests or 60 s. It reports how many were refused so far.
    let stop = Arc::new(AtomicBool::new(false));
    let (refused_tx, mut refused_rx) = tokio::sync::watch::channel(0usize);
    let flood = tokio::spawn({
        let (stack, factory, stop) = (stack.clone(), factory.clone(), stop.clone());
        async move {
            let deadline = Instant::now() + Duration::from_secs(60);
            let mut answers = Vec::new();
            while !stop.load(Ordering::Relaxed)
                && answers.len() < 20_000
                && Instant::now() < deadline
            {
                let answer = post_forged(&stack, &factory, Some(FORGER)).await;
                let refused = answer.status == 429;
                answers.push(answer);
                if refused {
                    refused_tx.send_modify(|n| *n += 1);
                }
            }
            answers
        }
    });
    tokio::time::timeout(Duration::from_secs(30), refused_rx.wait_for(|n| *n >= 5))
        .await
        .expect("the flood is refused within 30 s")
        .expect("the flood is still running");

    // During the flood: a valid request from another address goes through; the blocked
    // address is refused even with a valid signature (the documented trade-off).
    let accepted = event(&factory);
    let answer = post_valid(&stack, Some(STRIPE), &accepted).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["id"], accepted.id);
    assert_refused(
        &post_valid(&stack, Some(FORGER), &event(&factory)).await,
        "valid from the blocked address",
    );
    assert!(
        !flood.is_finished(),
        "the flood outlived the valid requests"
    );
    let refused_before = *refused_rx.borrow();
    tokio::time::timeout(
        Duration::from_secs(30),
        refused_rx.wait_for(|n| *n > refused_before),
    )
    .await
    .expect("the flood goes on after the valid requests")
    .expect("the flood is still running");
    stop.store(true, Ordering::Relaxed);
    let answers = flood.await.expect("the flood task");

    for (n, answer) in answers.iter().enumerate() {
        if n < 3 {
            assert_verification_failed(answer, &format!("forged #{}", n + 1));
            assert_eq!(answer.retry_after, None);
        } else {
            assert_refused(answer, &format!("forged #{}", n + 1));
        }
    }
    let queued = stack.drain().await;
    assert_eq!(queued.len(), 1, "only the valid event is queued");
    assert_eq!(queued[0].attributes["event_id"], accepted.id);

    let (status, metrics) = stack.get("/metrics").await;
    assert_eq!(status, 200);
    let refusals = answers.len() - 3 + 1;
    assert!(
        metrics.contains(&format!(
            "ingress_requests_total{{outcome=\"too_many_invalid_signatures\"}} {refusals}"
        )),
        "{metrics}"
    );
    assert_eq!(
        metric_value(&metrics, "ingress_invalid_signature_sources"),
        Some(1.0),
        "{metrics}"
    );
}

#[tokio::test]
async fn the_allowance_is_per_address_and_the_left_most_forwarded_address_counts() {
    let stack = Stack::start(false, &with_header()).await;
    let factory = EventFactory::new();

    for n in 1..=3 {
        let answer = post_forged(&stack, &factory, Some(FORGER)).await;
        assert_verification_failed(&answer, &format!("forger #{n}"));
    }
    assert_refused(
        &post_forged(&stack, &factory, Some(FORGER)).await,
        "forger #4",
    );
    // Through one more proxy: still the forger, the left-most address.
    let chain = format!("{FORGER}, {PROXY}");
    assert_refused(
        &post_forged(&stack, &factory, Some(&chain)).await,
        "forger behind a proxy",
    );
    // The forger's address further right is not the client: the left-most one is fresh.
    let chain = format!("{PROXY}, {FORGER}");
    assert_verification_failed(
        &post_forged(&stack, &factory, Some(&chain)).await,
        "another client behind the forger's address",
    );

    // Another address has an allowance of its own.
    for n in 1..=3 {
        let answer = post_forged(&stack, &factory, Some(OTHER_FORGER)).await;
        assert_verification_failed(&answer, &format!("other forger #{n}"));
    }
    assert_refused(
        &post_forged(&stack, &factory, Some(OTHER_FORGER)).await,
        "other forger #4",
    );

    // No header, or one that names no address: the socket peer (127.0.0.1) is charged.
    assert_verification_failed(
        &post_forged(&stack, &factory, None).await,
        "peer without header",
    );
    assert_verification_failed(
        &post_forged(&stack, &factory, Some("unknown")).await,
        "peer with an unusable header",
    );

    let valid = event(&factory);
    let answer = post_valid(&stack, Some(STRIPE), &valid).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    let queued = stack.drain().await;
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].attributes["event_id"], valid.id);
}

/// A client whose connections come from `address` (any of 127.0.0.0/8 on Linux).
fn client_from(address: &str) -> reqwest::Client {
    common::telemetry::install_crypto_provider();
    reqwest::Client::builder()
        .local_address(address.parse::<IpAddr>().expect("an address"))
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client")
}

#[tokio::test]
async fn without_a_trusted_header_the_socket_peer_is_the_address() {
    let stack = Stack::start(false, SMALL_ALLOWANCE).await;
    let factory = EventFactory::new();
    let forger = client_from("127.0.0.2");
    let sender = client_from("127.0.0.3");

    // Forwarded-for values are ignored without TRUSTED_PROXY_HEADER: varying them does not
    // give the forger a fresh allowance.
    for n in 1..=5u8 {
        let (body, header) = forged(&factory);
        let request = stack
            .webhook(&forger, body, Some(&header))
            .header("x-forwarded-for", format!("203.0.113.{n}"));
        let answer = send(request).await;
        if n <= 3 {
            assert_verification_failed(&answer, &format!("forged #{n}"));
        } else {
            assert_refused(&answer, &format!("forged #{n}"));
        }
    }

    let valid = event(&factory);
    let body = valid.body();
    let header = sign(SECRET, unix_now(), &body);
    let answer = send(stack.webhook(&sender, body, Some(&header))).await;
    assert_eq!(answer.status, 200, "{}", answer.json);

    let body = event(&factory).body();
    let header = sign(SECRET, unix_now(), &body);
    assert_refused(
        &send(stack.webhook(&forger, body, Some(&header))).await,
        "valid from the blocked peer",
    );
    assert_eq!(stack.drain().await.len(), 1);
}

#[tokio::test]
async fn zero_disables_the_limit() {
    let stack = Stack::start(
        false,
        &[
            ("INVALID_SIGNATURE_BURST", "0"),
            ("INVALID_SIGNATURE_PER_MINUTE", "1"),
        ],
    )
    .await;
    let factory = EventFactory::new();
    for n in 1..=10 {
        let answer = post_forged(&stack, &factory, None).await;
        assert_verification_failed(&answer, &format!("forged #{n}"));
    }
    let answer = stack.post_signed(&event(&factory)).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
}
