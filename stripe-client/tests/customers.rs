//! Customers through the client against stripesim over HTTP: the calls, idempotent
//! replays, and the classification of Stripe's refusals.

#[path = "support/mod.rs"]
mod support;

use std::sync::Arc;

use stripe_client::{
    customers::{CustomerParams, ListCustomers},
    ApiKey, FailureClass, IdempotencyKey, Metadata, Page, StripeClient, StripeError, Unmetered,
};
use support::Setup;

fn jane() -> CustomerParams {
    CustomerParams {
        email: Some("jane@example.com".into()),
        name: Some("Jane Doe".into()),
        phone: Some("+15550100".into()),
        metadata: Metadata::from([("salesforce_id".into(), "003000000000001AAA".into())]),
        ..CustomerParams::default()
    }
}

#[tokio::test]
async fn a_customer_is_created_read_updated_listed_and_deleted() {
    let setup = Setup::start().await;
    let client = &setup.client;
    let created = client
        .create_customer(
            &jane(),
            &IdempotencyKey::derive("customer.create", &["003-1"]),
        )
        .await
        .expect("created");
    assert!(created.id.starts_with("cus_"));
    assert_eq!(created.email.as_deref(), Some("jane@example.com"));
    assert_eq!(created.metadata["salesforce_id"], "003000000000001AAA");

    let update = CustomerParams {
        phone: Some(String::new()),
        metadata: Metadata::from([("tier".into(), "gold".into())]),
        ..CustomerParams::default()
    };
    let updated = client
        .update_customer(
            &created.id,
            &update,
            &IdempotencyKey::derive("customer.update", &["003-1", "c2"]),
        )
        .await
        .expect("updated");
    assert_eq!(updated.phone, None, "an empty value clears the field");
    assert_eq!(
        updated.metadata.len(),
        2,
        "metadata merges: {:?}",
        updated.metadata
    );

    let read = client.retrieve_customer(&created.id).await.expect("read");
    assert_eq!(read.name.as_deref(), Some("Jane Doe"));

    let filter = ListCustomers {
        email: Some("jane@example.com".into()),
        page: Page::first(10),
    };
    let listed = client.list_customers(&filter).await.expect("listed");
    assert_eq!(listed.data.len(), 1);
    assert_eq!(listed.data[0].id, created.id);
    assert!(!listed.has_more);

    let deleted = client.delete_customer(&created.id).await.expect("deleted");
    assert!(deleted.deleted);
    let again = client.delete_customer(&created.id).await.expect_err("gone");
    assert_eq!(again.status(), Some(404));
    assert_eq!(again.class(), FailureClass::Permanent);
    assert_eq!(again.code(), Some("resource_missing"));
    assert_eq!(setup.gate.admitted(), 6, "every request passed the gate");
}

#[tokio::test]
async fn the_same_cause_creates_one_customer_however_often_it_is_sent() {
    let setup = Setup::start().await;
    let key = IdempotencyKey::derive("customer.create", &["003-1", "change-7"]);
    let first = setup
        .client
        .create_customer(&jane(), &key)
        .await
        .expect("first");
    let second = setup
        .client
        .create_customer(&jane(), &key)
        .await
        .expect("replayed");
    assert_eq!(first.id, second.id);
    let all = setup
        .client
        .list_customers(&ListCustomers::default())
        .await
        .expect("listed");
    assert_eq!(all.data.len(), 1, "one customer in the account");

    let other = CustomerParams {
        name: Some("Someone Else".into()),
        ..jane()
    };
    let refused = setup
        .client
        .create_customer(&other, &key)
        .await
        .expect_err("other parameters under the same key");
    let StripeError::Api {
        status,
        class,
        error,
        request_id,
        ..
    } = &refused
    else {
        panic!("an API error, got {refused:?}");
    };
    assert_eq!((*status, *class), (400, FailureClass::Permanent));
    assert_eq!(error.kind, "idempotency_error");
    assert!(request_id
        .as_deref()
        .is_some_and(|id| id.starts_with("req_")));
}

#[tokio::test]
async fn a_wrong_key_is_an_auth_failure_and_is_not_retried() {
    let setup = Setup::start_with(|settings| {
        settings.api_key = ApiKey::new("sk_test_not_the_right_one").expect("a key");
        settings.max_retries = 3;
    })
    .await;
    let error = setup
        .client
        .retrieve_customer("cus_x")
        .await
        .expect_err("refused");
    assert_eq!(error.status(), Some(401));
    assert_eq!(error.class(), FailureClass::Auth);
    assert_eq!(setup.gate.admitted(), 1, "an auth failure is not retried");
    assert!(!error.to_string().contains("not_the_right_one"));
}

#[tokio::test]
async fn a_rotated_key_is_used_by_the_next_request_of_every_clone() {
    let setup = Setup::start_with(|settings| {
        settings.api_key = ApiKey::new("sk_test_retired_key").expect("a key");
    })
    .await;
    let clone = setup.client.clone();
    let refused = clone.list_customers(&ListCustomers::default()).await;
    assert_eq!(refused.expect_err("the old key").status(), Some(401));
    setup
        .client
        .set_api_key(ApiKey::new(support::KEY).expect("the key stripesim accepts"));
    clone
        .list_customers(&ListCustomers::default())
        .await
        .expect("the rotated key is accepted");
}

#[tokio::test]
async fn nobody_listening_is_a_retryable_transport_failure() {
    let setup = Setup::start().await;
    let mut settings = setup.client.settings().clone();
    setup.sim.shutdown().await;
    settings.max_retries = 0;
    let client = StripeClient::new(settings, Arc::new(Unmetered)).expect("client");
    let error = client
        .retrieve_customer("cus_x")
        .await
        .expect_err("no server");
    assert!(matches!(error, StripeError::Transport(_)), "{error:?}");
    assert_eq!(error.class(), FailureClass::Retryable);
}
