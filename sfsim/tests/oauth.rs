//! The OAuth 2.0 token endpoint against the simulator: client credentials (body and Basic),
//! username-password, configured credentials and the error bodies (docs/salesforce-api.md
//! §1.1–§1.3, §1.6). JWT bearer is in `jwt.rs`, what happens to issued sessions in
//! `sessions.rs`.

#[path = "support/mod.rs"]
mod support;

use sfsim::{SimConfig, Simulator};
use support::{assert_oauth_error, read, test_config, token_request, Org};

#[tokio::test]
async fn client_credentials_in_the_body_returns_the_documented_fields() {
    let org = Org::start().await;
    let reply = token_request(
        &org,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "sfsim-client-id"),
            ("client_secret", "sfsim-client-secret"),
        ],
    )
    .await;
    assert_eq!(reply.status, 200);
    let body = &reply.body;
    assert!(body["access_token"].as_str().unwrap().starts_with("00D"));
    assert!(body["access_token"].as_str().unwrap().contains('!'));
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["instance_url"], org.sim.base_url());
    assert!(
        body["issued_at"].is_string(),
        "issued_at is epoch millis as a string"
    );
    assert!(body["signature"].is_string());
    assert_eq!(body["scope"], "api");
    assert!(
        body.get("expires_in").is_none(),
        "no expires_in in any flow"
    );
    assert!(body.get("refresh_token").is_none());
    let id = body["id"].as_str().unwrap();
    let segments: Vec<&str> = id.rsplit('/').take(2).collect();
    assert!(
        segments[0].starts_with("005") && segments[1].starts_with("00D"),
        "id ends in /orgId/userId: {id}"
    );
}

#[tokio::test]
async fn client_credentials_with_http_basic() {
    let org = Org::start().await;
    let response = org
        .client
        .post(org.sim.token_url())
        .basic_auth("sfsim-client-id", Some("sfsim-client-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let reply = read(response).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let token = reply.body["access_token"].as_str().unwrap();
    let limits = read(
        org.client
            .get(org.api("/limits"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(limits.status, 200);
}

#[tokio::test]
async fn token_endpoint_errors() {
    let org = Org::start().await;
    let unknown = token_request(
        &org,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "nope"),
            ("client_secret", "sfsim-client-secret"),
        ],
    )
    .await;
    assert_oauth_error(&unknown, "invalid_client_id", "client identifier invalid");
    let bad_secret = token_request(
        &org,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "sfsim-client-id"),
            ("client_secret", "wrong"),
        ],
    )
    .await;
    assert_oauth_error(&bad_secret, "invalid_client", "invalid client credentials");
    let bad_grant = token_request(&org, &[("grant_type", "authorization_code")]).await;
    assert_oauth_error(
        &bad_grant,
        "unsupported_grant_type",
        "grant type not supported",
    );
    let login_domain = read(
        org.client
            .post(org.sim.token_url())
            .header("host", "login.salesforce.com")
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "sfsim-client-id"),
                ("client_secret", "sfsim-client-secret"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_oauth_error(
        &login_domain,
        "invalid_grant",
        "request not supported on this domain",
    );
}

#[tokio::test]
async fn configured_credentials_replace_the_defaults() {
    let config = SimConfig {
        client_id: "fleet-id".into(),
        client_secret: "fleet-secret".into(),
        ..test_config()
    };
    let sim = Simulator::start(config).await.unwrap();
    assert_eq!(sim.client_id(), "fleet-id");
    let client = testkit::harness::http_client();
    let reply = read(
        client
            .post(sim.token_url())
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "fleet-id"),
                ("client_secret", "fleet-secret"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, 200);
    let default = read(
        client
            .post(sim.token_url())
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "sfsim-client-id"),
                ("client_secret", "sfsim-client-secret"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(default.status, 400);
    sim.shutdown().await;
}

#[tokio::test]
async fn username_password_flow() {
    let org = Org::start().await;
    let user = org.sim.config().users[0].clone();
    let base = [
        ("grant_type", "password"),
        ("client_id", "sfsim-client-id"),
        ("client_secret", "sfsim-client-secret"),
    ];
    let good = token_request(
        &org,
        &[
            &base[..],
            &[
                ("username", user.username.as_str()),
                ("password", user.password.as_str()),
            ],
        ]
        .concat(),
    )
    .await;
    assert_eq!(good.status, 200, "{}", good.text);
    assert!(good.body.get("refresh_token").is_none());
    let bad = token_request(
        &org,
        &[
            &base[..],
            &[("username", user.username.as_str()), ("password", "wrong")],
        ]
        .concat(),
    )
    .await;
    assert_oauth_error(&bad, "invalid_grant", "authentication failure");

    let config = SimConfig {
        password_flow_enabled: false,
        ..test_config()
    };
    let blocked = Org::start_with(config).await;
    let reply = token_request(
        &blocked,
        &[
            &base[..],
            &[
                ("username", user.username.as_str()),
                ("password", user.password.as_str()),
            ],
        ]
        .concat(),
    )
    .await;
    assert_oauth_error(&reply, "invalid_grant", "authentication failure");
}
