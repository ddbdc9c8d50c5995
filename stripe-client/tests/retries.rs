//! Rate limiting: a 429 is retried within the client's allowance, each attempt through the
//! gate (which hears each attempt's outcome), and handed back as `RateLimited` beyond it.

#[path = "support/mod.rs"]
mod support;

use stripe_client::{customers::CustomerParams, FailureClass, IdempotencyKey};
use support::Setup;

fn params() -> CustomerParams {
    CustomerParams {
        email: Some("retry@example.com".into()),
        ..CustomerParams::default()
    }
}

#[tokio::test]
async fn a_429_is_retried_with_the_same_key_until_it_passes() {
    let setup = Setup::start_with(|settings| settings.max_retries = 2).await;
    setup.rate_limit_next(2).await;
    let key = IdempotencyKey::derive("customer.create", &["003-r"]);
    let customer = setup
        .client
        .create_customer(&params(), &key)
        .await
        .expect("the third attempt passes");
    assert!(customer.id.starts_with("cus_"));
    assert_eq!(
        setup.gate.admitted(),
        3,
        "three attempts, each through the gate"
    );
    assert_eq!(
        setup.gate.outcomes(),
        [
            Some(FailureClass::RateLimited),
            Some(FailureClass::RateLimited),
            None
        ],
        "the gate hears how each attempt ended"
    );
}

#[tokio::test]
async fn beyond_the_allowance_the_429_goes_back_to_the_caller() {
    let setup = Setup::start_with(|settings| settings.max_retries = 1).await;
    setup.rate_limit_next(5).await;
    let key = IdempotencyKey::derive("customer.create", &["003-r"]);
    let error = setup
        .client
        .create_customer(&params(), &key)
        .await
        .expect_err("still limited");
    assert_eq!(error.status(), Some(429));
    assert_eq!(error.class(), FailureClass::RateLimited);
    assert_eq!(setup.gate.admitted(), 2);
    assert_eq!(
        setup.gate.outcomes(),
        [
            Some(FailureClass::RateLimited),
            Some(FailureClass::RateLimited)
        ]
    );
}
