//! Every metric an alert rule or a dashboard panel names is exported by a running fleet:
//! the `ingress` binary, and the `workers` binary as bridge, realtime, bulk and outbound,
//! against Redis, the SQS emulator, sfsim and stripesim, after events went through the whole
//! path (and a Contact became a Stripe customer).

use std::{
    collections::{BTreeMap, BTreeSet},
    time::Duration,
};

use testkit::{
    harness::{self, ServiceProcess},
    stripe::{sign, unix_now, EventFactory},
};

use super::{
    deploy::{alert_rules, dashboard_queries},
    promql::{exposed_names, metric_names},
    support::{outbound::Org, sim::Sim, BridgeStack},
};

/// Metrics the rules or the dashboard name that the fleet does not export yet, and why.
/// A name listed here must not be exported (the list would be stale).
const NOT_EXPORTED_YET: &[(&str, &str)] = &[(
    "catchup_events_recovered_total",
    "exported by `workers catchup`, which this fleet does not start (workers/tests/catchup.rs checks it)",
)];

const SECRET: &str = "whsec_monitoring_test_secret";
const WAIT: Duration = Duration::from_secs(90);

/// Starts the `ingress` binary (built next to this test by `cargo test --workspace`) on
/// `queue_url`; answers its base URL and the process.
async fn start_ingress(stack: &BridgeStack) -> (String, ServiceProcess) {
    let port = harness::free_port();
    let mut env: Vec<(&str, String)> = stack.sqs.env();
    env.push(("SQS_QUEUE_URL", stack.queue_url.clone()));
    env.push(("LISTEN_ADDR", format!("127.0.0.1:{port}")));
    env.push(("STRIPE_WEBHOOK_SECRETS", SECRET.to_owned()));
    let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let ingress = ServiceProcess::spawn("ingress", harness::binary("ingress"), &[], &env_refs)
        .expect("ingress starts (build it with cargo test --workspace or cargo build -p ingress)");
    let base = format!("http://127.0.0.1:{port}");
    harness::wait_for_http(&format!("{base}/health/ready"), Duration::from_secs(30))
        .await
        .unwrap_or_else(|e| panic!("{e}; log: {}", ingress.log_contents()));
    (base, ingress)
}

/// Names the `/metrics` at `urls` expose together (a role that does not answer adds none).
async fn exported(http: &reqwest::Client, urls: &[String]) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for url in urls {
        if let Ok(response) = http.get(url).send().await {
            names.extend(exposed_names(&response.text().await.unwrap_or_default()));
        }
    }
    names
}

/// The wanted names not in `exported`, each with what uses it.
fn absent(wanted: &BTreeMap<String, Vec<String>>, exported: &BTreeSet<String>) -> Vec<String> {
    wanted
        .iter()
        .filter(|(name, _)| !exported.contains(*name))
        .map(|(name, users)| format!("{name} (used by {})", users.join(", ")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_metric_a_rule_or_a_panel_names_is_exported_by_the_running_fleet() {
    // What deploy/ names, and where.
    let mut wanted: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for rule in alert_rules() {
        for name in metric_names(&rule.expr) {
            wanted
                .entry(name)
                .or_default()
                .push(format!("alert {}", rule.name));
        }
    }
    for (title, expr) in dashboard_queries() {
        for name in metric_names(&expr) {
            wanted
                .entry(name)
                .or_default()
                .push(format!("panel \"{title}\""));
        }
    }
    for (name, _) in NOT_EXPORTED_YET {
        assert!(
            wanted.remove(*name).is_some(),
            "{name} is listed as not exported yet but nothing in deploy/ names it"
        );
    }

    // The fleet.
    let stack = BridgeStack::start(false).await;
    let sim = Sim::start().await;
    let (ingress, _ingress_process) = start_ingress(&stack).await;
    let (_bridge, bridge_port) = stack.start_bridge_with_port(&[]).await;
    let (_realtime, realtime_port) = stack.start_consumer_with_port("realtime", &sim, &[]).await;
    let (_bulk, bulk_port) = stack
        .start_consumer_with_port("bulk", &sim, &[("BULK_BATCH_AGE_MS", "200")])
        .await;

    // The outbound role, after it made a customer of a Contact.
    let org = Org::start().await;
    let (outbound, outbound_port) = org.outbound_with_port(&[]).await;
    org.wait_subscribed(&outbound).await;
    let contact = org.insert_contact("metrics@example.com", "Metrics").await;
    org.customer_of(&contact, &[&outbound]).await;

    // A customer's life through the front door: low (customer.*) and high events.
    let http = harness::http_client();
    let events = EventFactory::new().lifecycle("usd", unix_now());
    for event in &events {
        let body = event.body();
        let status = http
            .post(format!("{ingress}/webhook/stripe"))
            .header("content-type", "application/json")
            .header("stripe-signature", sign(SECRET, unix_now(), &body))
            .body(body)
            .send()
            .await
            .expect("the ingress answers")
            .status();
        assert_eq!(status, 200, "{}", event.event_type);
    }
    stack
        .wait_for_states(&events, &["applied", "superseded", "stale"], WAIT)
        .await;

    // Every wanted name, from some role, once the gauges had their next reading.
    let urls = [
        format!("{ingress}/metrics"),
        format!("http://127.0.0.1:{bridge_port}/metrics"),
        format!("http://127.0.0.1:{realtime_port}/metrics"),
        format!("http://127.0.0.1:{bulk_port}/metrics"),
        format!("http://127.0.0.1:{outbound_port}/metrics"),
    ];
    let complete = harness::wait_for("every named metric", WAIT, || async {
        absent(&wanted, &exported(&http, &urls).await)
            .is_empty()
            .then_some(())
    })
    .await;
    let exported = exported(&http, &urls).await;
    assert!(
        complete.is_ok(),
        "not exported by the fleet:\n  {}",
        absent(&wanted, &exported).join("\n  ")
    );
    // The sync lag was observed on both streams, at the point each event was applied.
    for (port, stream) in [(realtime_port, "high"), (bulk_port, "low")] {
        let text = http
            .get(format!("http://127.0.0.1:{port}/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        let total = |series: &str| -> f64 {
            text.lines()
                .filter(|l| l.starts_with(series) && l.contains(&format!("stream=\"{stream}\"")))
                .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                .sum()
        };
        let (count, sum) = (
            total("sync_lag_seconds_count"),
            total("sync_lag_seconds_sum"),
        );
        assert!(count >= 1.0, "no sync lag observed on {stream}:\n{text}");
        assert!(
            sum / count < WAIT.as_secs_f64(),
            "{stream}: mean lag {} s",
            sum / count
        );
        eprintln!(
            "{stream}: {count} applied events, mean sync lag {:.2} s",
            sum / count
        );
    }
    for (name, why) in NOT_EXPORTED_YET {
        assert!(
            !exported.contains(*name),
            "{name} is exported now: remove it from NOT_EXPORTED_YET ({why})"
        );
    }
}
