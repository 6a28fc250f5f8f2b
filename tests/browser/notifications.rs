//! Notifications in a real browser: with the permission granted (as a person allowing it
//! on "Enable notifications") and the tab hidden behind another, a direct message and a
//! mention show real browser notifications, a group set to "Mentions" stays quiet
//! otherwise, the title counts what is unread, a chat set to "Nothing" is silent, and
//! clicking a notification opens its chat.

use serde_json::{json, Value};

use super::web::{group, say, Kanect, Window, DESKTOP};

/// Wraps the page's `Notification` (the app still constructs the real one) and the audio
/// element's `play`, recording into localStorage what happens, and the title as it changes,
/// so that another tab of the same origin can read it while this one is hidden.
const RECORDER: &str = "
    const Real = window.Notification;
    window.__notes = [];
    const log = (key, value) => {
      const all = JSON.parse(localStorage.getItem(key) || '[]');
      all.push(value);
      localStorage.setItem(key, JSON.stringify(all));
    };
    window.Notification = class extends Real {
      constructor(title, options) {
        super(title, options);
        window.__notes.push(this);
        log('test-notifications', { title, body: options.body, tag: options.tag });
      }
    };
    const play = HTMLMediaElement.prototype.play;
    HTMLMediaElement.prototype.play = function () {
      log('test-sounds', this.currentSrc || this.src);
      return play.call(this);
    };
    const title = document.querySelector('title');
    new MutationObserver(() => localStorage.setItem('test-title', document.title))
      .observe(title, { childList: true, characterData: true, subtree: true });
    return Real === window.Notification ? 'not wrapped' : Notification.permission;
";

async fn recorded(tab: &Window, key: &str) -> Vec<Value> {
    let value = tab
        .js(
            "return JSON.parse(localStorage.getItem(arguments[0]) || '[]')",
            vec![json!(key)],
        )
        .await;
    serde_json::from_value(value).unwrap_or_default()
}

async fn wait_title(tab: &Window, title: &str) {
    tab.wait_js(
        &format!("the hidden tab's title to be {title}"),
        "return localStorage.getItem('test-title') === arguments[0]",
        vec![json!(title)],
    )
    .await;
}

#[tokio::test]
async fn a_hidden_tab_notifies_of_direct_messages_and_mentions_at_each_chats_level() {
    let Some(app) = Kanect::start() else { return };
    let mut alice_api = app.member("alice");
    let mut bob = app.member("bob");
    app.member("carol");
    let direct = alice_api.chat_with("bob");
    let crew = group(&mut alice_api, "Launch crew", &["bob", "carol"]);
    let sound = alice_api.json(
        "PATCH",
        "/api/me",
        &json!({ "preferences": { "sound": true } }),
    );
    assert_eq!(sound.status, 200, "{}", sound.text());

    let alice = app.signed_in("alice", DESKTOP).await;
    // The browser has not been asked: the page offers to, and asks only on the click.
    alice.wait_visible("#enable-notifications").await;
    let permission = alice.js("return Notification.permission", vec![]).await;
    assert_eq!(permission, "default", "nothing asked on load");

    // The group is busy: alice sets it to mentions only, in its header.
    alice
        .click(&format!("#chat-list button[data-key='chat:{crew}']"))
        .await;
    alice.wait_text("#chat-title", "Launch crew").await;
    let level = alice.find("#notify-level").await;
    assert_eq!(
        level.prop("value").await.ok().flatten().as_deref(),
        Some("all")
    );
    alice.click("#notify-level option[value='mentions']").await;
    let chats = alice_api.get("/api/chats");
    let server_level = |chats: &Value, id: i64| {
        chats
            .as_array()
            .and_then(|all| all.iter().find(|c| c["id"] == id))
            .map(|c| c["notify"].clone())
    };
    let mut stored = server_level(&chats.json(), crew);
    for _ in 0..50 {
        if stored == Some(json!("mentions")) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        stored = server_level(&alice_api.get("/api/chats").json(), crew);
    }
    assert_eq!(stored, Some(json!("mentions")), "the select set the level");
    alice.goto("/").await;
    alice.wait_chat_ready().await;

    // "Enable notifications": alice allows them; the button goes.
    let wrapped = alice.js(RECORDER, vec![]).await;
    assert_eq!(wrapped, "default");
    alice.grant_notifications();
    alice.click("#enable-notifications").await;
    alice.wait_hidden("#enable-notifications").await;
    assert_eq!(
        alice.js("return Notification.permission", vec![]).await,
        "granted"
    );

    // Another tab in front: Kanect's tab is hidden now.
    let kanect_tab = alice.window().await.expect("the window handle");
    let other = alice.new_window(true).await.expect("a new tab");
    alice
        .switch_to_window(other.handle)
        .await
        .expect("to the new tab");
    alice.goto("/account").await;

    say(&mut bob, direct, "Are you free at 3 for the launch review?");
    say(&mut bob, crew, "Lunch is here, in the kitchen.");
    say(
        &mut bob,
        crew,
        "@alice could you check the slides before Friday?",
    );
    wait_title(&alice, "(3) Kanect").await;
    let shown = recorded(&alice, "test-notifications").await;
    assert_eq!(
        shown,
        [
            json!({ "title": "bob", "body": "Are you free at 3 for the launch review?",
                    "tag": format!("kanect-chat-{direct}") }),
            json!({ "title": "bob in Launch crew",
                    "body": "@alice could you check the slides before Friday?",
                    "tag": format!("kanect-chat-{crew}") }),
        ],
        "the direct message and the mention; not the group's other message"
    );
    let sounds = recorded(&alice, "test-sounds").await;
    assert_eq!(sounds.len(), 2, "a sound with each: {sounds:?}");
    assert!(
        sounds
            .iter()
            .all(|s| s.as_str().is_some_and(|s| s.contains("ding"))),
        "{sounds:?}"
    );

    // Nothing from the direct chat any more (set from alice's other browser: it reaches
    // this tab live).
    let quiet = alice_api.json(
        "PATCH",
        &format!("/api/chats/{direct}"),
        &json!({ "notify": "none" }),
    );
    assert_eq!(quiet.status, 200, "{}", quiet.text());
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    say(&mut bob, direct, "Never mind, it moved to Monday.");
    say(&mut bob, crew, "@alice and the budget too, please.");
    wait_title(&alice, "(5) Kanect").await;
    let shown = recorded(&alice, "test-notifications").await;
    assert_eq!(shown.len(), 3, "only the group's mention: {shown:?}");
    assert_eq!(shown[2]["body"], "@alice and the budget too, please.");

    // Back to Kanect's tab: the favicon carries the badge; the notification opens its chat.
    alice.close_window().await.expect("the other tab closes");
    alice
        .switch_to_window(kanect_tab)
        .await
        .expect("back to Kanect");
    assert_eq!(
        alice.js("return document.title", vec![]).await,
        "(5) Kanect"
    );
    let icon = alice
        .js(
            "return document.querySelector('link[rel=icon]').href",
            vec![],
        )
        .await;
    assert!(
        icon.as_str().is_some_and(|href| href.starts_with("blob:")),
        "the favicon has its badge: {icon}"
    );
    alice
        .js(
            "window.__notes[0].dispatchEvent(new Event('click')); return true",
            vec![],
        )
        .await;
    alice.wait_path(&format!("/chats/{direct}")).await;
    alice.wait_text("#chat-title", "bob").await;
    let level = alice.find("#notify-level").await;
    assert_eq!(
        level.prop("value").await.ok().flatten().as_deref(),
        Some("none"),
        "the header shows the level set elsewhere"
    );
    alice
        .wait_js(
            "the direct chat read",
            "return document.title === '(3) Kanect'",
            vec![],
        )
        .await;
    alice.screenshot("notification").await;
    alice.assert_console_clean();
}
