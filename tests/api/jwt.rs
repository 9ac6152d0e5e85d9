//! JWT bearer tokens from an identity provider, signed here with keys the test makes (Ed25519
//! and P-256 with ring, RSA with openssl), checked by the service against a JWKS file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use ring::rand::SystemRandom;
use ring::signature::{self, KeyPair};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{assert_problem, client_with, create_task_body, TestApp};

const ISSUER: &str = "https://idp.example.test/";
const AUDIENCE: &str = "operations";

/// A signing key and the JWK that publishes it.
struct SigningKey {
    kid: String,
    algorithm: Algorithm,
    encoding: EncodingKey,
    jwk: Value,
}

fn ed25519(kid: &str) -> SigningKey {
    let pkcs8 = signature::Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    let pair = signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    SigningKey {
        kid: kid.into(),
        algorithm: Algorithm::EdDSA,
        encoding: EncodingKey::from_ed_der(pkcs8.as_ref()),
        jwk: json!({"kty": "OKP", "crv": "Ed25519", "kid": kid, "alg": "EdDSA", "use": "sig",
                    "x": URL_SAFE_NO_PAD.encode(pair.public_key().as_ref())}),
    }
}

fn p256(kid: &str) -> SigningKey {
    let rng = SystemRandom::new();
    let alg = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
    let pkcs8 = signature::EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
    let pair = signature::EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).unwrap();
    let point = pair.public_key().as_ref(); // 0x04 || x || y
    SigningKey {
        kid: kid.into(),
        algorithm: Algorithm::ES256,
        encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
        jwk: json!({"kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256", "use": "sig",
                    "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
                    "y": URL_SAFE_NO_PAD.encode(&point[33..65])}),
    }
}

fn rsa(kid: &str, dir: &Path) -> SigningKey {
    let pem = dir.join(format!("{kid}.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(&pem)
        .output()
        .expect("openssl makes an RSA key");
    assert!(made.status.success(), "{made:?}");
    let der = std::process::Command::new("openssl")
        .args(["pkcs8", "-topk8", "-nocrypt", "-outform", "DER", "-in"])
        .arg(&pem)
        .output()
        .unwrap()
        .stdout;
    let pair = signature::RsaKeyPair::from_pkcs8(&der).unwrap();
    let public: ring::rsa::PublicKeyComponents<Vec<u8>> = pair.public().into();
    SigningKey {
        kid: kid.into(),
        algorithm: Algorithm::RS256,
        encoding: EncodingKey::from_rsa_pem(&std::fs::read(&pem).unwrap()).unwrap(),
        jwk: json!({"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
                    "n": URL_SAFE_NO_PAD.encode(&public.n),
                    "e": URL_SAFE_NO_PAD.encode(&public.e)}),
    }
}

fn write_jwks(path: &Path, keys: &[&SigningKey]) {
    let jwks = json!({"keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()});
    std::fs::write(path, jwks.to_string()).unwrap();
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Valid claims for a dispatch service allowed the tasks collection; `change` adjusts them.
fn claims(change: impl FnOnce(&mut Value)) -> Value {
    let mut claims = json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "svc-dispatch",
        "iat": now(), "nbf": now() - 5, "exp": now() + 300,
        "roles": ["service"], "collections": ["tasks"],
    });
    change(&mut claims);
    claims
}

fn sign(key: &SigningKey, claims: &Value) -> String {
    let mut header = Header::new(key.algorithm);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &key.encoding).unwrap()
}

struct Provider {
    dir: PathBuf,
    jwks: PathBuf,
}

impl Provider {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("ops-jwt-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let jwks = dir.join("jwks.json");
        Self { dir, jwks }
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn spawn(provider: &Provider) -> TestApp {
    let jwks = provider.jwks.to_string_lossy().to_string();
    let app = TestApp::spawn_with(|s| {
        s.auth.jwt_jwks = Some(jwks);
        s.auth.jwt_issuer = Some(ISSUER.into());
        s.auth.jwt_audience = Some(AUDIENCE.into());
        s.auth.jwt_refetch_interval = Duration::ZERO;
    })
    .await;
    app.places().await;
    app
}

/// The tasks created: what the tokens' commands stored (the fixtures' places are the admin
/// key's).
async fn tasks_created(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'TaskCreated'")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn create_task(app: &TestApp, token: &str) -> reqwest::Response {
    client_with(token)
        .post(app.url(&format!("/v1/tasks/{}/commands", Uuid::new_v4())))
        .json(&create_task_body())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn tokens_signed_with_rs256_es256_or_eddsa_act_as_their_subject() {
    let provider = Provider::new();
    let keys = [ed25519("ed-1"), p256("ec-1"), rsa("rsa-1", &provider.dir)];
    write_jwks(&provider.jwks, &keys.iter().collect::<Vec<_>>());
    let app = spawn(&provider).await;
    for key in &keys {
        let response = create_task(&app, &sign(key, &claims(|_| {}))).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{}", key.kid);
    }
    let actors: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT metadata->>'actor' FROM events WHERE aggregate_type = 'Task'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(actors, [format!("jwt:svc-dispatch@{ISSUER}")]);

    // A role claim may be a single string; an analyst reads and sends no commands.
    let analyst = sign(
        &keys[0],
        &claims(|c| {
            c["sub"] = json!("ana");
            c["roles"] = json!("analyst");
        }),
    );
    let read = client_with(&analyst)
        .get(app.url("/v1/tasks"))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    assert_problem(
        create_task(&app, &analyst).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    // The service's collections come from its token: pilots are not among them.
    let pilots = client_with(&sign(&keys[1], &claims(|_| {})))
        .post(app.url(&format!("/v1/pilots/{}/commands", Uuid::new_v4())))
        .json(&json!({"type": "RegisterPilot"}))
        .send()
        .await
        .unwrap();
    assert_problem(pilots, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(tasks_created(&app).await, 3);
}

#[tokio::test]
async fn a_token_that_fails_any_check_is_401_saying_which_and_stores_nothing() {
    let provider = Provider::new();
    let key = ed25519("ed-1");
    write_jwks(&provider.jwks, &[&key]);
    let app = spawn(&provider).await;
    let impostor = ed25519("ed-1"); // same kid, another key
    let mut hs256 = Header::new(Algorithm::HS256);
    hs256.kid = Some("ed-1".into());
    let cases = [
        (
            sign(&key, &claims(|c| c["exp"] = json!(now() - 120))),
            "credential_expired",
            "expired",
        ),
        (
            sign(&key, &claims(|c| c["nbf"] = json!(now() + 120))),
            "invalid_jwt",
            "not valid yet",
        ),
        (
            sign(&key, &claims(|c| c["aud"] = json!("billing"))),
            "invalid_jwt",
            "audience",
        ),
        (
            sign(&key, &claims(|c| c["iss"] = json!("https://evil.test/"))),
            "invalid_jwt",
            "issuer",
        ),
        (sign(&impostor, &claims(|_| {})), "invalid_jwt", "signature"),
        (
            sign(
                &key,
                &claims(|c| {
                    c.as_object_mut().unwrap().remove("sub");
                }),
            ),
            "invalid_jwt",
            "sub",
        ),
        (
            jsonwebtoken::encode(&hs256, &claims(|_| {}), &EncodingKey::from_secret(b"guess"))
                .unwrap(),
            "invalid_jwt",
            "algorithm",
        ),
        (
            sign(&ed25519("nobody"), &claims(|_| {})),
            "invalid_jwt",
            "key",
        ),
    ];
    for (token, code, why) in cases {
        let problem = assert_problem(
            create_task(&app, &token).await,
            StatusCode::UNAUTHORIZED,
            code,
        )
        .await;
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(why), "{why}: {detail}");
        assert!(
            !problem.to_string().contains(&token),
            "the token is not echoed"
        );
    }
    // Within the leeway (30 s) a just-expired token still passes.
    let skewed = sign(&key, &claims(|c| c["exp"] = json!(now() - 10)));
    assert_eq!(
        create_task(&app, &skewed).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(tasks_created(&app).await, 1);
}

#[tokio::test]
async fn a_key_the_provider_rotated_in_is_fetched_when_a_token_names_it() {
    let provider = Provider::new();
    let old = ed25519("2026-11");
    write_jwks(&provider.jwks, &[&old]);
    let app = spawn(&provider).await;
    assert_eq!(
        create_task(&app, &sign(&old, &claims(|_| {})))
            .await
            .status(),
        StatusCode::CREATED
    );
    let new = p256("2026-12");
    write_jwks(&provider.jwks, &[&old, &new]);
    assert_eq!(
        create_task(&app, &sign(&new, &claims(|_| {})))
            .await
            .status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn a_token_verified_once_still_expires_on_time() {
    let provider = Provider::new();
    let key = p256("ec-1");
    write_jwks(&provider.jwks, &[&key]);
    let jwks = provider.jwks.to_string_lossy().to_string();
    let app = TestApp::spawn_with(|s| {
        s.auth.jwt_jwks = Some(jwks);
        s.auth.jwt_issuer = Some(ISSUER.into());
        s.auth.jwt_audience = Some(AUDIENCE.into());
        s.auth.jwt_leeway = Duration::ZERO;
    })
    .await;
    app.places().await;
    let token = sign(&key, &claims(|c| c["exp"] = json!(now() + 2)));
    for _ in 0..3 {
        assert_eq!(
            create_task(&app, &token).await.status(),
            StatusCode::CREATED
        );
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_problem(
        create_task(&app, &token).await,
        StatusCode::UNAUTHORIZED,
        "credential_expired",
    )
    .await;
    assert_eq!(tasks_created(&app).await, 3);
}
