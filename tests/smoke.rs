mod common;

use common::TestApp;
use rocket::http::Status;

#[rocket::async_test]
async fn alice_and_bob_chat() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    let sent = alice.say(chat, "hello bob").await;
    assert_eq!(sent["sender"], "alice");
    let got = bob
        .get_json(&format!("/api/chats/{chat}/messages"), Status::Ok)
        .await;
    assert_eq!(got["messages"][0]["body"], "hello bob");
    let chats = bob.get_json("/api/chats", Status::Ok).await;
    println!("{chats:#}");
    let ups = bob.get_json("/api/updates?after=0", Status::Ok).await;
    println!("{ups:#}");
}
