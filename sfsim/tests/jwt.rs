//! The JWT bearer flow against the simulator (docs/salesforce-api.md §1.4): RS256 assertions
//! signed with the test key pass, and each way an assertion can be wrong gets its documented
//! error (§1.6). Assertions are signed here with `ring`, independently of the simulator's
//! verifier.
#![expect(
    clippy::unwrap_used,
    reason = "helpers outside #[test] functions unwrap too: a failed step should fail the test"
)]

#[path = "support/mod.rs"]
mod support;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::{json, Value};
use sfsim::test_keys::{PRIVATE_KEY_PEM, PUBLIC_KEY_PEM};
use sfsim::SimConfig;
use support::{assert_oauth_error, test_config, token_request, Org};

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
