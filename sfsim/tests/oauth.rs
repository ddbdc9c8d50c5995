//! OAuth 2.0 against the simulator: client credentials (body and Basic), username-password,
//! JWT bearer (RS256), error bodies, revocation, idle timeout, admin expiry
//! (docs/salesforce-api.md §1).
// Helpers outside #[test] functions unwrap too: a failed step should fail the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use reqwest::Method;
use serde_json::{json, Value};
use sfsim::{SimConfig, Simulator};
use support::{read, test_config, Org, Reply};
use testkit::harness::wait_for;

use sfsim::test_keys::{PRIVATE_KEY_PEM, PUBLIC_KEY_PEM};
/// Another key, whose signatures the simulator must refuse.
const OTHER_PRIVATE_KEY_PEM: &str = r"-----BEGIN PRIVATE KEY-----
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCsUnEkPK1ejjoe
FzHbSAwVfOOPdIbIKCMYRQd8dP88h7RTBg2QuZ0yfZ+Ik7SH6itu+ELWRmvbybhh
yT3CoNEdQ/Os/b4k7KC/VsjX4zxssGlQI2xCgOccbX8LxAWfULg2AZuQyitgZqO/
O/s9hSDTvdHfWP1NYdUuSegV3J91rwHZZsqsvIoKMXfYGJKHQlDNaVvQmjbViZN4
WcGSA50AJCjVcoUgKC5Zh6awmf8cKvkdEWC9H/xM7dZzcqudFTyJJJNtsFppTfp0
oX35TO/ZMrJhHwXcIXmJ8VPTzuH/zv1W0kmwU3ihTuyTLX0SZ6LI/UzEe+7dbv8C
wsblc3qtAgMBAAECggEAJ43I4Jt45AJbfrquO/oeo/QFu9DwexMTcyetHzkvuPIh
RwlVpcmlNoi1TMEyqBvtGkyr8sk5SrrTssZhgcIuHbySOzwHICycfS7rbPqAzSX1
Fmr7F4zE/7Z2efnlnHsHvYXC8oolSLxmi6e19JoRPekNOmoPwmpZZ4WZWyNICtff
B5M5wa5J0Tk0sLxuw3BkO/bXSK0imrP8YvmmdJJi1FaGVVOI1FsgiJ+iSXStddQe
mX6EC9SQIDcas3m3lRtU7gxuItrwybwVMR21HPosJm3qVd40SsO3D1X8HlMLW0vq
lScw5TbZazDornebd0PBl3OuK2NFHSf7G60WEcV41QKBgQDm2KkOQfGJkL1r3IvV
MiyvN04xCDfmjCPsx0R1/xmPg0Sjr4SyTbtkWPeVBPepxLLO+NRCGaSIVGk40rC1
Bm5HNyiZ6C6N4azD65klclt0IYsVjl9TVK62uR64AUUxeeMrDzKhQzTJzy3MJF65
j0msGWAPbeocknSkL35ho7c04wKBgQC/GUbPNNzPpDOrbJSX5SwZsUhLWJ7XaVRg
X9+LoBsXZZqJA4VmLoJrsX6to0dogyCeCjdo1KdPEBEd5h2NcCAKNjR4jh3knZoe
KYwGuj9SJkUVQzGcw4VzGmPmTe6GouXiXEmHkyi/KESyPFPlT9agibX0vRylEbGz
cXZL2fw3LwKBgFjLtFOop/krdMFdp2gNkcSgOHKB38bN1y/IApyE0Nc0Ph3ccOWJ
IvDZi/qFW6Kw57rXWgZHCNPr7EGQQaqQW7EHFZYGCopG6Ya/RDx0PZtxH6feCOrr
4vykPp2211/Nq8UvZmFDkbWi/NHOl6U26bbKV/n3ZJsy9q0FG88BA4LTAoGAF/uz
IFQxFjo0ZeJFr96KL1tJiHNB1CUa+tFte9eHLuOIhoOTnWRe5+cpz977GknCsTL1
C0oNCWYpz8fOk66rxrxQz4R+ie+hpQFv2nRLeCLnbqi1NEhxmiWIviGvuuP81/Df
JY25gmwqWvgpS1E+zX0bAfEuBCV5WNz3jMN53O8CgYBeIIYWuuNPAF4hkt91xCUs
CFjTZw/0+Hx+GImbQI2r+Tq17l92+BBOd6DMdqbQquHBEiE+FIvblVGMhmks8tBq
3uQrRPqp0+v7GNbafAajObcmAzLBmHREFBCu3B43I9FuPjPUniByoM7ew+10b6ix
rrvxnWvvKsIRuJwcu4DwmA==
-----END PRIVATE KEY-----";

fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    STANDARD.decode(body).unwrap()
}

fn sign_jwt(private_pem: &str, claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{header}.{payload}");
    let key = ring::signature::RsaKeyPair::from_pkcs8(&pem_der(private_pem)).unwrap();
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        signing_input.as_bytes(),
        &mut signature,
    )
    .unwrap();
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn token_request(org: &Org, form: &[(&str, &str)]) -> Reply {
    read(
        org.client
            .post(org.sim.token_url())
            .form(form)
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn assert_oauth_error(reply: &Reply, error: &str, description: &str) {
    assert_eq!(reply.status, 400, "{}", reply.text);
    assert_eq!(
        reply.body,
        json!({"error": error, "error_description": description})
    );
}

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

#[tokio::test]
async fn jwt_bearer_flow_verifies_rs256_against_the_configured_key() {
    let config = SimConfig {
        jwt_public_key_pem: Some(PUBLIC_KEY_PEM.to_string()),
        ..test_config()
    };
    let org = Org::start_with(config).await;
    let username = org.sim.config().users[0].username.clone();
    let claims = |iss: &str, sub: &str, aud: &str, exp: Value| json!({"iss": iss, "sub": sub, "aud": aud, "exp": exp});
    let grant = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    let exp = (now_secs() + 180).to_string();
    let good = sign_jwt(
        PRIVATE_KEY_PEM,
        &claims(
            "sfsim-client-id",
            &username,
            "https://login.salesforce.com",
            json!(exp),
        ),
    );
    let reply = token_request(&org, &[("grant_type", grant), ("assertion", &good)]).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(reply.body.get("refresh_token").is_none());

    let cases = [
        (
            sign_jwt(
                OTHER_PRIVATE_KEY_PEM,
                &claims(
                    "sfsim-client-id",
                    &username,
                    "https://login.salesforce.com",
                    json!(exp),
                ),
            ),
            "invalid_grant",
            "invalid assertion",
        ),
        (
            sign_jwt(
                PRIVATE_KEY_PEM,
                &claims(
                    "sfsim-client-id",
                    &username,
                    "https://example.com",
                    json!(exp),
                ),
            ),
            "invalid_grant",
            "audience is invalid",
        ),
        (
            sign_jwt(
                PRIVATE_KEY_PEM,
                &claims(
                    "other-app",
                    &username,
                    "https://login.salesforce.com",
                    json!(exp),
                ),
            ),
            "invalid_client_id",
            "client identifier invalid",
        ),
        (
            sign_jwt(
                PRIVATE_KEY_PEM,
                &claims(
                    "sfsim-client-id",
                    "stranger@example.com",
                    "https://login.salesforce.com",
                    json!(exp),
                ),
            ),
            "invalid_grant",
            "user hasn't approved this consumer",
        ),
        (
            sign_jwt(
                PRIVATE_KEY_PEM,
                &claims(
                    "sfsim-client-id",
                    &username,
                    "https://login.salesforce.com",
                    json!(now_secs() - 600),
                ),
            ),
            "invalid_grant",
            "invalid assertion",
        ),
        (
            "not.a.jwt".to_string(),
            "invalid_grant",
            "invalid assertion",
        ),
    ];
    for (assertion, error, description) in cases {
        let reply = token_request(&org, &[("grant_type", grant), ("assertion", &assertion)]).await;
        assert_oauth_error(&reply, error, description);
    }
}

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
