//! Web Push: the VAPID key, the subscription rules, and pushes as a push service receives
//! them: a local endpoint on loopback takes Kanect's POST, and the test decrypts it with
//! the browser's keys (RFC 8291) and checks the VAPID signature (RFC 8292).

use crate::common;

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::endpoint::{self, next, Answer, Received};
use common::{expect_error, expect_invalid, Person, TestApp};
use p256::ecdsa::signature::Verifier;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use rocket::http::Status;
use rocket::tokio::sync::mpsc;
use rocket::tokio::time::timeout;
use serde_json::{json, Value};

/// A push service on a loopback port that answers every request with `status`: its URL,
/// and what it receives.
async fn push_service(status: u16) -> (String, mpsc::UnboundedReceiver<Received>) {
    let (base, received) = endpoint::start(vec![Answer::status(status)]).await;
    (format!("{base}/push/abc"), received)
}

/// A browser's push keys: the private key stays here, to decrypt with.
struct BrowserKeys {
    secret: p256::SecretKey,
    auth: [u8; 16],
}

impl BrowserKeys {
    fn new() -> BrowserKeys {
        let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
        let auth: [u8; 16] = rand::random();
        BrowserKeys { secret, auth }
    }

    /// The subscription JSON a browser posts for `endpoint`.
    fn subscription(&self, endpoint: &str) -> Value {
        let point = self.secret.public_key().to_encoded_point(false);
        json!({
            "endpoint": endpoint,
            "expirationTime": null,
            "keys": {
                "p256dh": URL_SAFE_NO_PAD.encode(point.as_bytes()),
                "auth": URL_SAFE_NO_PAD.encode(self.auth),
            },
        })
    }

    fn decrypt(&self, body: Vec<u8>) -> Value {
        let auth = web_push_native::Auth::from(self.auth);
        let plain =
            web_push_native::decrypt(body, &self.secret, &auth).expect("an RFC 8291 payload");
        serde_json::from_slice(&plain).expect("a JSON payload")
    }
}

async fn subscribe(who: &Person<'_>, subscription: Value) {
    let response = who.post("/api/push/subscriptions", subscription).await;
    assert_eq!(response.status(), Status::NoContent);
}

/// The JWT of `vapid t=<jwt>, k=<key>` verifies against `key`; its claims.
fn verified_claims(authorization: &str, key: &str) -> Value {
    let (jwt, k) = authorization
        .strip_prefix("vapid t=")
        .and_then(|rest| rest.split_once(", k="))
        .unwrap_or_else(|| panic!("a VAPID authorization: {authorization}"));
    assert_eq!(k, key, "k= is the server's public key");
    let (signed, signature) = jwt.rsplit_once('.').expect("a signed JWT");
    let point = URL_SAFE_NO_PAD.decode(key).expect("base64url");
    let verifying = p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).expect("a P-256 key");
    let signature = URL_SAFE_NO_PAD.decode(signature).expect("base64url");
    let signature = p256::ecdsa::Signature::from_slice(&signature).expect("r || s");
    verifying
        .verify(signed.as_bytes(), &signature)
        .expect("the JWT verifies against the public key");
    let mut parts = signed.split('.');
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap()).unwrap();
    assert_eq!(header["alg"], "ES256");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap()).unwrap()
}

fn with_loopback(config: &mut kanect::config::Config) {
    config.webhook_allow_private = true;
}

#[rocket::async_test]
async fn a_member_gets_the_public_key_kept_in_the_data_dir_and_strangers_get_401() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let key = alice.get_json("/api/push/key", Status::Ok).await;
    let key = key["public_key"].as_str().expect("a public key");
    let point = URL_SAFE_NO_PAD.decode(key).expect("base64url");
    assert_eq!(
        (point.len(), point[0]),
        (65, 4),
        "an uncompressed P-256 point"
    );
    let kept = kanect::push::vapid::Vapid::load_or_create(&app.data_dir).expect("the kept key");
    assert_eq!(
        kept.public_key(),
        key,
        "the key in data_dir is the one served"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let file = app.data_dir.join(kanect::push::vapid::KEY_FILE);
        let mode = std::fs::metadata(file)
            .expect("the key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "owner-only");
    }
    for (method, path) in [
        ("GET", "/api/push/key"),
        ("POST", "/api/push/subscriptions"),
        ("DELETE", "/api/push/subscriptions"),
    ] {
        let response = app.anonymous(method, path).await;
        assert_eq!(response.status(), Status::Unauthorized, "{method} {path}");
    }
}

#[rocket::async_test]
async fn subscriptions_take_public_https_endpoints_and_valid_keys_only() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let keys = BrowserKeys::new();
    for endpoint in [
        "http://push.example.com/x",
        "https://10.0.0.1/x",
        "https://192.168.0.7/x",
        "https://[fd00::1]/x",
        "http://127.0.0.1:9/x",
        "https://localhost/x",
        "not a url",
    ] {
        let response = alice
            .post("/api/push/subscriptions", keys.subscription(endpoint))
            .await;
        expect_invalid(response, "endpoint").await;
    }
    let good = "https://push.example.com/send/abc";
    let mut bad_key = keys.subscription(good);
    bad_key["keys"]["p256dh"] = json!(URL_SAFE_NO_PAD.encode([4u8; 65]));
    expect_invalid(
        alice.post("/api/push/subscriptions", bad_key).await,
        "p256dh",
    )
    .await;
    let mut bad_auth = keys.subscription(good);
    bad_auth["keys"]["auth"] = json!("short");
    expect_invalid(
        alice.post("/api/push/subscriptions", bad_auth).await,
        "auth",
    )
    .await;
    let mut missing = keys.subscription(good);
    missing["keys"] = json!({ "auth": URL_SAFE_NO_PAD.encode(keys.auth) });
    expect_invalid(
        alice.post("/api/push/subscriptions", missing).await,
        "p256dh",
    )
    .await;
    assert_eq!(
        app.count("SELECT count(*) FROM push_subscriptions").await,
        0,
        "nothing kept"
    );

    let forged = alice
        .send_token(
            "POST",
            "/api/push/subscriptions",
            None,
            keys.subscription(good),
        )
        .await;
    expect_error(forged, Status::Forbidden, "csrf").await;
    assert_eq!(
        app.count("SELECT count(*) FROM push_subscriptions").await,
        0
    );

    subscribe(&alice, keys.subscription(good)).await;
    subscribe(&alice, keys.subscription(good)).await;
    assert_eq!(
        app.count("SELECT count(*) FROM push_subscriptions").await,
        1,
        "one row per endpoint"
    );
    let forged = alice
        .send_token(
            "DELETE",
            "/api/push/subscriptions",
            None,
            json!({ "endpoint": good }),
        )
        .await;
    expect_error(forged, Status::Forbidden, "csrf").await;
    let gone = alice
        .send(
            "DELETE",
            "/api/push/subscriptions",
            json!({ "endpoint": good }),
        )
        .await;
    assert_eq!(gone.status(), Status::NoContent);
    assert_eq!(
        app.count("SELECT count(*) FROM push_subscriptions").await,
        0
    );
}

#[rocket::async_test]
async fn loopback_endpoints_need_webhook_allow_private_and_other_private_ones_stay_refused() {
    let app = TestApp::with(with_loopback).await;
    let alice = app.signup("alice").await;
    let keys = BrowserKeys::new();
    subscribe(&alice, keys.subscription("http://127.0.0.1:9/push")).await;
    let response = alice
        .post(
            "/api/push/subscriptions",
            keys.subscription("https://10.1.2.3/push"),
        )
        .await;
    expect_invalid(response, "endpoint").await;
}

#[rocket::async_test]
async fn a_direct_message_to_someone_with_no_open_tab_arrives_encrypted_and_signed() {
    let app = TestApp::with(with_loopback).await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let direct = alice.chat_with("bob").await;
    let (endpoint, mut received) = push_service(201).await;
    let keys = BrowserKeys::new();
    subscribe(&bob, keys.subscription(&endpoint)).await;
    let server_key = bob.get_json("/api/push/key", Status::Ok).await["public_key"]
        .as_str()
        .expect("a key")
        .to_owned();

    alice.say(direct, "Lunch at\n noon?").await;

    let push = next(&mut received).await;
    assert_eq!(push.header("content-encoding"), "aes128gcm");
    let ttl: u64 = push.header("ttl").parse().expect("a TTL in seconds");
    assert!(ttl > 0);
    let claims = verified_claims(push.header("authorization"), &server_key);
    let origin = endpoint.trim_end_matches("/push/abc");
    assert_eq!(
        claims["aud"], origin,
        "the audience is the endpoint's origin"
    );
    assert!(
        claims["exp"].as_i64().expect("exp") > time::OffsetDateTime::now_utc().unix_timestamp()
    );
    assert_eq!(
        keys.decrypt(push.body),
        json!({
            "title": "alice",
            "body": "Lunch at noon?",
            "chat_id": direct,
            "url": format!("/chats/{direct}"),
        })
    );
    // alice sent it: none for her (she has no subscription anyway), one for bob.
    assert!(
        timeout(Duration::from_millis(500), received.recv())
            .await
            .is_err(),
        "one push"
    );
}

#[rocket::async_test]
async fn levels_decide_a_group_pushes_mentions_only_and_none_pushes_nothing() {
    let app = TestApp::with(with_loopback).await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let group = alice.group("Design", &["bob"]).await;
    let (endpoint, mut received) = push_service(201).await;
    let keys = BrowserKeys::new();
    subscribe(&bob, keys.subscription(&endpoint)).await;
    let level = bob
        .patch(
            &format!("/api/chats/{group}"),
            json!({ "notify": "mentions" }),
        )
        .await;
    assert_eq!(level.status(), Status::Ok);

    alice.say(group, "no one in particular").await;
    alice.say(group, "@all standup now").await;
    let push = keys.decrypt(next(&mut received).await.body);
    assert_eq!(push["title"], "alice in Design");
    assert_eq!(
        push["body"], "@all standup now",
        "the mention, not the message before it"
    );

    let level = bob
        .patch(&format!("/api/chats/{group}"), json!({ "notify": "none" }))
        .await;
    assert_eq!(level.status(), Status::Ok);
    alice.say(group, "@bob are you there?").await;
    assert!(
        timeout(Duration::from_millis(1500), received.recv())
            .await
            .is_err(),
        "level none: no push"
    );
}

#[rocket::async_test]
async fn an_endpoint_answering_410_loses_its_subscription() {
    let app = TestApp::with(with_loopback).await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let direct = alice.chat_with("bob").await;
    let (endpoint, mut received) = push_service(410).await;
    subscribe(&bob, BrowserKeys::new().subscription(&endpoint)).await;
    assert_eq!(
        app.count("SELECT count(*) FROM push_subscriptions").await,
        1
    );

    alice.say(direct, "are you still there?").await;
    next(&mut received).await;

    let mut left = 1;
    for _ in 0..50 {
        left = app.count("SELECT count(*) FROM push_subscriptions").await;
        if left == 0 {
            break;
        }
        rocket::tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(left, 0, "the gone subscription is dropped");
}

#[rocket::async_test]
async fn someone_with_an_open_tab_gets_no_push() {
    let app = TestApp::with(with_loopback).await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let direct = alice.chat_with("bob").await;
    let (endpoint, mut received) = push_service(201).await;
    subscribe(&bob, BrowserKeys::new().subscription(&endpoint)).await;
    let cursor = bob.cursor_now().await;

    // bob's tab holds a long poll while alice writes; it shows him the message itself.
    let (update, _) = rocket::tokio::join!(bob.poll(cursor, 5), async {
        rocket::tokio::time::sleep(Duration::from_millis(300)).await;
        alice.say(direct, "you are here").await
    });
    assert_eq!(common::bodies(&update), ["you are here"]);
    assert!(
        timeout(Duration::from_millis(1500), received.recv())
            .await
            .is_err(),
        "no push while a tab is open"
    );
}

#[rocket::async_test]
async fn a_subscription_made_just_now_gets_the_next_message() {
    let app = TestApp::with(with_loopback).await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let direct = alice.chat_with("bob").await;
    // The push task has now read who has a subscription: nobody.
    alice.say(direct, "before").await;
    let (endpoint, mut received) = push_service(201).await;
    let keys = BrowserKeys::new();
    subscribe(&bob, keys.subscription(&endpoint)).await;
    alice.say(direct, "after").await;
    let push = next(&mut received).await;
    assert_eq!(keys.decrypt(push.body)["body"], "after");
}
