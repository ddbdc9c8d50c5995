//! Events through the client: filters and cursor pagination, the raw event kept whole.

#[path = "support/mod.rs"]
mod support;

use std::collections::HashSet;

use stripe_client::{customers::CustomerParams, events::ListEvents, IdempotencyKey, Page};
use support::Setup;

#[tokio::test]
async fn events_page_through_every_customer_created() {
    let setup = Setup::start().await;
    let mut created = HashSet::new();
    for n in 0..7 {
        let params = CustomerParams {
            email: Some(format!("c{n}@example.com")),
            ..CustomerParams::default()
        };
        let key = IdempotencyKey::derive("customer.create", &[&n.to_string()]);
        created.insert(
            setup
                .client
                .create_customer(&params, &key)
                .await
                .expect("created")
                .id,
        );
    }
    let mut seen = Vec::new();
    let mut filter = ListEvents {
        event_type: Some("customer.created".into()),
        page: Page::first(3),
        ..ListEvents::default()
    };
    loop {
        let page = setup.client.list_events(&filter).await.expect("a page");
        assert!(page.data.len() <= 3);
        for event in &page.data {
            assert_eq!(event.event_type, "customer.created");
            assert!(event.created > 0);
            seen.push(
                event.json["data"]["object"]["id"]
                    .as_str()
                    .expect("customer id")
                    .to_owned(),
            );
        }
        match (page.has_more, page.data.last()) {
            (true, Some(last)) => filter.page.starting_after = Some(last.id.clone()),
            _ => break,
        }
    }
    assert_eq!(seen.len(), 7, "each event once");
    assert_eq!(seen.iter().cloned().collect::<HashSet<_>>(), created);

    let other = ListEvents {
        types: vec!["customer.deleted".into(), "customer.updated".into()],
        ..ListEvents::default()
    };
    assert!(setup
        .client
        .list_events(&other)
        .await
        .expect("listed")
        .data
        .is_empty());
    let first = setup
        .client
        .retrieve_event(&filter.page.starting_after.unwrap_or_default())
        .await;
    assert!(first.is_ok(), "{first:?}");
}
