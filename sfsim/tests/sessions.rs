//! Sessions the token endpoint issued, against the simulator: unknown tokens get 401
//! `INVALID_SESSION_ID`, revoked tokens stop working, the admin hook expires every live
//! session, and idle sessions time out (docs/salesforce-api.md §1.5, §1.7, §2.4).

#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use sfsim::SimConfig;
use support::{assert_oauth_error, read, test_config, Org};
use testkit::harness::wait_for;

#[tokio::test]
async fn invalid_tokens_get_401_invalid_session_id() {
    let org = Org::start().await;
    let reply = read(
        org.client
            .get(org.api("/limits"))
            .bearer_auth("00Dbogus!AQxyz")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.body,
        json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
    );
    let missing = read(org.client.get(org.api("/limits")).send().await.unwrap()).await;
    assert_eq!(missing.status, 401);
    let oauth_scheme = read(
        org.client
            .get(org.api("/limits"))
            .header("authorization", format!("OAuth {}", org.token))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        oauth_scheme.status, 200,
        "the older OAuth scheme is accepted"
    );
}

#[tokio::test]
async fn revoked_tokens_stop_working() {
    let org = Org::start().await;
    let revoked = read(
        org.client
            .post(org.url("/services/oauth2/revoke"))
            .form(&[("token", org.token.as_str())])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(revoked.status, 200);
    assert_eq!(org.get("/limits").await.status, 401);
    let again = read(
        org.client
            .post(org.url("/services/oauth2/revoke"))
            .form(&[("token", org.token.as_str())])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_oauth_error(&again, "invalid_token", "invalid token");
}

#[tokio::test]
async fn admin_expiry_ends_every_live_session() {
    let org = Org::start().await;
    let second = support::login(&org.client, &org.sim).await;
    let expired = org
        .admin(Method::POST, "/__sim/sessions/expire", None)
        .await;
    assert_eq!(expired.body["expired"], 2);
    assert_eq!(org.get("/limits").await.status, 401);
    let reply = read(
        org.client
            .get(org.api("/limits"))
            .bearer_auth(&second)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.error_code(), "INVALID_SESSION_ID");
    let fresh = support::login(&org.client, &org.sim).await;
    assert_eq!(
        read(
            org.client
                .get(org.api("/limits"))
                .bearer_auth(&fresh)
                .send()
                .await
                .unwrap()
        )
        .await
        .status,
        200
    );
    let tokens = org.admin(Method::GET, "/__sim/tokens", None).await;
    assert_eq!(tokens.body["issued"], 3);
    assert_eq!(tokens.body["active"], 1);
    assert_eq!(tokens.body["tokens"][0]["ended"], "expired_by_admin");
    assert_eq!(tokens.body["tokens"][0]["flow"], "client_credentials");
}

#[tokio::test]
async fn idle_sessions_expire() {
    let config = SimConfig {
        session_idle_timeout: Duration::from_millis(300),
        ..test_config()
    };
    let org = Org::start_with(config).await;
    assert_eq!(org.get("/limits").await.status, 200);
    // Poll the token inspection (which does not touch the session) until it reports the
    // idle expiry; then the API must refuse the token.
    let ended = wait_for("idle expiry", Duration::from_secs(10), || async {
        let tokens = org.admin(Method::GET, "/__sim/tokens", None).await;
        (tokens.body["tokens"][0]["ended"] == "expired").then_some(())
    })
    .await;
    assert!(ended.is_ok(), "{ended:?}");
    assert_eq!(org.get("/limits").await.error_code(), "INVALID_SESSION_ID");
}
