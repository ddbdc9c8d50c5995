//! `workers dlq list|show|replay|purge`.

use std::collections::HashMap;

use workers::keys::{KeySpace, Priority};

use crate::fleet::*;

#[tokio::test]
async fn dlq_list_shows_summaries_without_payloads_and_show_prints_everything() {
    let fleet = Fleet::start().await;
    let customer = fleet.event("customer.created");
    let invoice = fleet.event("invoice.payment_failed");
    let first = fleet.kill(Priority::High, &customer).await;
    fleet.kill(Priority::Low, &invoice).await;
    let bridge = fleet.bridge_dead_letter().await;

    let list = fleet.json(&["dlq", "list"]);
    let list = list.as_array().expect("a list");
    assert_eq!(list.len(), 3);
    assert_eq!(list[0]["id"], bridge.as_str(), "newest first");
    assert_eq!(list[2]["event_id"], customer.id.as_str());
    assert_eq!(list[2]["type"], "customer.created");
    assert_eq!(list[2]["reason"], "permanent");
    assert_eq!(list[2]["attempts"], 5);
    assert!(list[2]["dead_at"].as_str().expect("a time").ends_with('Z'));
    for letter in list {
        assert!(letter.get("payload").is_none(), "no payload in a listing");
    }
    let only = fleet.json(&["dlq", "list", "--type", "customer.created"]);
    assert_eq!(only.as_array().map(Vec::len), Some(1));
    assert_eq!(
        fleet
            .json(&["dlq", "list", "--limit", "1"])
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let table = fleet.human(&["dlq", "list"]);
    assert!(table.starts_with("ID"), "{table}");
    assert!(
        table.contains("Z (now)") || table.contains(" ago)"),
        "{table}"
    );
    let email = customer.json["data"]["object"]["email"]
        .as_str()
        .expect("the customer has an e-mail");
    assert!(
        !table.contains(email),
        "payloads stay out of listings: {table}"
    );
    assert!(!fleet.json(&["dlq", "list"]).to_string().contains(email));

    let shown = fleet.json(&["dlq", "show", &first]);
    assert_eq!(shown["payload"]["id"], customer.id.as_str());
    assert_eq!(shown["object_id"], customer.object_id.as_str());
    assert_eq!(shown["source"], "high");
    let pretty = fleet.human(&["dlq", "show", &first]);
    assert!(pretty.contains("payload:\n{\n  \""), "{pretty}");
    assert!(pretty.contains("INVALID_FIELD"), "{pretty}");
    assert!(fleet
        .failure(&["dlq", "show", "1-1"])
        .contains("no dead letter 1-1"));
}

#[tokio::test]
async fn replay_puts_the_event_back_on_its_stream_once() {
    let fleet = Fleet::start().await;
    let event = fleet.event("customer.updated");
    let dead_id = fleet.kill(Priority::Low, &event).await;
    assert!(fleet
        .entries(&fleet.keys.stream(Priority::Low))
        .await
        .is_empty());

    let report = fleet.json(&["dlq", "replay", &dead_id]);
    assert_eq!(report["replayed"][0]["stream"], "low");

    let low = fleet.entries(&fleet.keys.stream(Priority::Low)).await;
    assert_eq!(low.len(), 1);
    assert_eq!(low[0]["event_id"], event.id);
    assert_eq!(low[0]["attempts"], "0");
    assert_eq!(low[0]["payload"], event.body());
    assert!(fleet.entries(&fleet.keys.dead_letters()).await.is_empty());
    let lifecycle = fleet.lifecycle(&event.id).await;
    assert_eq!(lifecycle["state"], "enqueued");
    assert_eq!(lifecycle["attempts"], "0");
    assert!(lifecycle.contains_key("replayed_at"));
    assert!(!lifecycle.contains_key("dead_entry"));
    let seen: bool = redis::cmd("EXISTS")
        .arg(fleet.keys.seen(&event.id))
        .query_async(&mut fleet.conn.clone())
        .await
        .expect("EXISTS");
    assert!(
        seen,
        "the dedupe marker is still there and did not block the replay"
    );

    let again = fleet.failure(&["dlq", "replay", &dead_id]);
    assert!(
        again.contains(&format!("no dead letter {dead_id}")),
        "{again}"
    );
    assert_eq!(
        fleet.entries(&fleet.keys.stream(Priority::Low)).await.len(),
        1
    );
}

#[tokio::test]
async fn replay_by_type_and_all_refuse_bridge_dead_letters() {
    let fleet = Fleet::start().await;
    let high = fleet.event("customer.created");
    let low = fleet.event("customer.created");
    let other = fleet.event("invoice.payment_failed");
    fleet.kill(Priority::High, &high).await;
    fleet.kill(Priority::Low, &low).await;
    fleet.kill(Priority::Low, &other).await;
    let bridge = fleet.bridge_dead_letter().await;

    let refused = fleet.failure(&["dlq", "replay", &bridge]);
    assert!(refused.contains("not replayable"), "{refused}");
    assert!(refused.contains("not Stripe events"), "{refused}");

    let report = fleet.json(&["dlq", "replay", "--type", "customer.created"]);
    assert_eq!(report["replayed"].as_array().map(Vec::len), Some(2));
    let ids = |entries: Vec<HashMap<String, String>>| -> Vec<String> {
        entries.into_iter().map(|e| e["event_id"].clone()).collect()
    };
    assert_eq!(
        ids(fleet.entries(&fleet.keys.stream(Priority::High)).await),
        [high.id.as_str()]
    );
    assert_eq!(
        ids(fleet.entries(&fleet.keys.stream(Priority::Low)).await),
        [low.id.as_str()]
    );

    let dry = fleet.json(&["dlq", "replay", "--all", "--dry-run"]);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["replayed"][0]["event_id"], other.id.as_str());
    assert_eq!(dry["refused"][0]["dead_id"], bridge.as_str());
    assert_eq!(
        fleet.entries(&fleet.keys.dead_letters()).await.len(),
        2,
        "dry run"
    );

    let all = fleet.human(&["dlq", "replay", "--all"]);
    assert!(all.starts_with("Replayed 1 event(s); refused 1."), "{all}");
    let left = fleet.entries(&fleet.keys.dead_letters()).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["source"], "bridge");
}

/// Dead letters written when the fleet had one partition name `{fleet}:low`, which a
/// partitioned fleet no longer reads: a replay puts the event on its partition's stream.
#[tokio::test]
async fn replay_after_partitioning_puts_old_dead_letters_where_they_are_read() {
    let fleet = Fleet::start().await;
    let event = fleet.event("customer.updated");
    fleet.kill(Priority::Low, &event).await;
    fleet.bridge_dead_letter().await;

    let output = fleet.run_partitioned(&["dlq", "replay", "--all", "--json"], 16);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["replayed"].as_array().map(Vec::len), Some(1));
    assert_eq!(report["refused"].as_array().map(Vec::len), Some(1));

    let partitioned = KeySpace::partitioned("fleet", 16);
    let home = partitioned.partition(partitioned.partition_of_event(&event.body(), &event.id));
    let low = fleet.entries(&home.stream(Priority::Low)).await;
    assert_eq!(low.len(), 1, "on the stream its partition's replicas read");
    assert_eq!(low[0]["event_id"], event.id);
    assert_eq!(low[0]["attempts"], "0");
    assert!(
        fleet
            .entries(&fleet.keys.stream(Priority::Low))
            .await
            .is_empty(),
        "not on the stream nobody reads"
    );
    assert!(fleet.entries(&home.dead_letters()).await.is_empty());
    let left = fleet.entries(&fleet.keys.dead_letters()).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["source"], "bridge");
    let lifecycle: HashMap<String, String> = redis::cmd("HGETALL")
        .arg(home.lifecycle(&event.id))
        .query_async(&mut fleet.conn.clone())
        .await
        .expect("HGETALL");
    assert_eq!(lifecycle["state"], "enqueued");
    assert!(fleet.lifecycle(&event.id).await.is_empty(), "one lifecycle");
}

#[tokio::test]
async fn purge_deletes_old_or_all_dead_letters() {
    let fleet = Fleet::start().await;
    let _: String = redis::cmd("XADD")
        .arg(fleet.keys.dead_letters())
        .arg("1000-0")
        .arg("source")
        .arg("bridge")
        .query_async(&mut fleet.conn.clone())
        .await
        .expect("an old dead letter");
    fleet.bridge_dead_letter().await;
    fleet
        .kill(Priority::High, &fleet.event("customer.created"))
        .await;

    assert!(fleet.failure(&["dlq", "purge", "--all"]).contains("--yes"));
    assert_eq!(
        fleet.json(&["dlq", "purge", "--older-than", "1d"])["purged"],
        1
    );
    assert_eq!(fleet.entries(&fleet.keys.dead_letters()).await.len(), 2);
    let purged = fleet.human(&["dlq", "purge", "--all", "--yes"]);
    assert_eq!(purged, "Purged 2 dead letter(s).\n");
    assert!(fleet.entries(&fleet.keys.dead_letters()).await.is_empty());
}
