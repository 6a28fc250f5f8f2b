//! A newcomer's path in the browser: a fresh server set up at /setup with the code from
//! its data dir, an invite link made in the "Invite people" dialog, a second browser
//! that signs up through it, and the two chatting.

use super::axe;
use super::web::{Kanect, DESKTOP, PASSWORD};

#[tokio::test]
async fn a_fresh_server_is_set_up_in_the_browser_and_an_invite_link_signs_someone_up() {
    let source = axe::source();
    let Some(app) = Kanect::start_with(&[("KANECT_SIGNUP", "invite")]) else {
        return;
    };
    let code =
        std::fs::read_to_string(app.data_dir().join("setup_code")).expect("the setup code file");

    let root = app.window(DESKTOP).await;
    root.goto("/").await;
    root.wait_path("/setup").await;
    if let Some(source) = source {
        axe::assert_clean(&root, source, "the setup page").await;
    }
    root.fill("#id_setup_code", code.trim()).await;
    root.fill("#id_username", "root").await;
    root.fill("#id_email", "root@example.com").await;
    root.fill("#id_password1", PASSWORD).await;
    root.fill("#id_password2", PASSWORD).await;
    root.screenshot("setup").await;
    root.click("#signup-form button[type=submit]").await;
    root.wait_chat_ready().await;
    assert!(
        !app.data_dir().join("setup_code").exists(),
        "setup deleted the code"
    );

    root.click("#invite-people").await;
    root.wait_visible("#invite-dialog").await;
    root.fill("#invite-note", "For Bob").await;
    root.click("#invite-submit").await;
    root.wait_visible("#invite-link").await;
    let link = root
        .wait_js(
            "the invite link",
            "const v = document.getElementById('invite-link').value; return v || null",
            vec![],
        )
        .await;
    let link = link.as_str().expect("a link").to_owned();
    assert!(link.contains("/join/"), "{link}");
    root.wait_text("#invite-copied", "only").await;
    if let Some(source) = source {
        axe::assert_clean(&root, source, "the Invite people dialog").await;
    }
    root.screenshot("invite").await;
    root.click("#invite-cancel").await;

    let path = link
        .find("/join/")
        .map(|at| link[at..].to_owned())
        .expect("a /join/ path");
    let bob = app.window(DESKTOP).await;
    bob.goto(&path).await;
    if let Some(source) = source {
        axe::assert_clean(&bob, source, "the invite's sign-up page").await;
    }
    bob.fill("#id_username", "bob").await;
    bob.fill("#id_email", "bob@example.com").await;
    bob.fill("#id_password1", PASSWORD).await;
    bob.fill("#id_password2", PASSWORD).await;
    bob.click("#signup-form button[type=submit]").await;
    bob.wait_chat_ready().await;

    bob.open_chat_with("root").await;
    bob.send("Hello from Bob").await;
    bob.wait_message("Hello from Bob").await;
    root.open_chat_with("bob").await;
    root.wait_message("Hello from Bob").await;
    root.send("Welcome, Bob").await;
    bob.wait_message("Welcome, Bob").await;
    root.assert_console_clean();
    bob.assert_console_clean();
}
