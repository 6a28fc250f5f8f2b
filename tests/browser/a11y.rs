//! Accessibility of the main pages as a person with a screen reader or a keyboard meets
//! them: axe finds nothing serious or critical, each page has one `<h1>`, the skip link
//! lands on something visible, and every control Tab reaches shows where focus is.

use serde_json::json;

use super::axe;
use super::web::{group, say, Kanect, Member, Window, DESKTOP, PHONE, ROOT_PASSWORD};

/// The WebDriver key code of Tab.
const TAB: char = '\u{E004}';

/// bob's group with alice and carol, a few messages in it (one from alice, one with a
/// mention and a link); answers the group's id and bob.
fn seed_group(app: &Kanect) -> (i64, Member) {
    let mut alice = app.member("alice");
    let mut bob = app.member("bob");
    app.member("carol");
    bob.chat_with("alice");
    let crew = group(&mut bob, "Launch crew", &["alice", "carol"]);
    say(&mut bob, crew, "Morning! The release notes are in the doc.");
    say(
        &mut bob,
        crew,
        "See https://example.com/notes for the draft.",
    );
    say(&mut alice, crew, "Thanks, reading them now.");
    say(&mut bob, crew, "@alice can you check the numbers?");
    say(&mut alice, crew, "Yes, after lunch.");
    (crew, bob)
}

/// Fails unless exactly one `<h1>` is exposed (visibly or to screen readers only).
async fn assert_one_h1(window: &Window, page: &str) {
    let headings = window
        .js(
            "return [...document.querySelectorAll('h1')].filter((h) => h.checkVisibility()) \
             .map((h) => h.textContent.trim())",
            vec![],
        )
        .await;
    assert_eq!(
        headings.as_array().map(Vec::len),
        Some(1),
        "one <h1> on {page}: {headings}"
    );
}

async fn check(window: &Window, source: &str, page: &str) {
    assert_one_h1(window, page).await;
    axe::assert_clean(window, source, page).await;
}

#[tokio::test]
async fn the_chat_with_a_group_open_passes_axe_on_a_desktop_and_a_phone() {
    let Some(source) = axe::source() else { return };
    let Some(app) = Kanect::start() else { return };
    let (crew, mut bob) = seed_group(&app);
    let item = format!("#chat-list button[data-key='chat:{crew}']");

    let desktop = app.signed_in("alice", DESKTOP).await;
    check(&desktop, source, "the chat home, nothing open (desktop)").await;
    desktop.click(&item).await;
    desktop.wait_message("Yes, after lunch.").await;
    check(
        &desktop,
        source,
        "the chat home with a group open (desktop)",
    )
    .await;
    // A new message lands in a polite live region that is still a list.
    say(&mut bob, crew, "One more thing: the demo is at four.");
    desktop
        .wait_message("One more thing: the demo is at four.")
        .await;
    let live = desktop
        .js(
            "const list = document.getElementById('message-list'); \
             const item = [...list.querySelectorAll('[data-message-body]')].pop().closest('li'); \
             return { live: list.getAttribute('aria-live'), log: !!list.closest('[role=log]'), \
                      list_role: list.getAttribute('role'), in_list: item.parentElement === list }",
            vec![],
        )
        .await;
    assert_eq!(
        live,
        json!({ "live": "polite", "log": true, "list_role": null, "in_list": true }),
        "new messages are announced from a list"
    );

    // What opens over the chat: the group's settings, the emoji picker, search results.
    desktop.click("#chat-settings-button").await;
    desktop
        .wait_visible("#chat-settings-dialog #rename-title")
        .await;
    axe::assert_clean(&desktop, source, "the group settings").await;
    desktop.click("#chat-settings-done").await;
    desktop.wait_hidden("#chat-settings-dialog").await;
    desktop
        .message_action("Thanks, reading them now.", "[data-action=pick]")
        .await;
    desktop.wait_visible("#emoji-grid [data-emoji]").await;
    axe::assert_clean(&desktop, source, "the emoji picker").await;
    desktop.click("#emoji-close").await;
    desktop.wait_hidden("#emoji-dialog").await;
    desktop.fill("#search", "release").await;
    desktop.wait_visible("#search-results [role=option]").await;
    axe::assert_clean(&desktop, source, "search results").await;
    // The quick switcher's conversations above them, and "New message".
    desktop.fill("#search", "bo").await;
    desktop.wait_visible("#switch-results [role=option]").await;
    axe::assert_clean(&desktop, source, "the quick switcher").await;
    desktop
        .send_keys_to_focus(&super::web::ESCAPE.to_string())
        .await;
    desktop.wait_hidden("#search-panel").await;
    desktop.click("#new-message").await;
    desktop.wait_visible("#person-list [role=option]").await;
    axe::assert_clean(&desktop, source, "the New message dialog").await;
    desktop.click("#person-cancel").await;
    desktop.wait_hidden("#person-dialog").await;

    let phone = app.signed_in("alice", PHONE).await;
    check(&phone, source, "the chat list (phone)").await;
    phone.click(&item).await;
    phone.wait_message("Yes, after lunch.").await;
    phone.wait_hidden("#sidebar").await;
    check(&phone, source, "a group open (phone)").await;
    desktop.assert_console_clean();
    phone.assert_console_clean();
}

#[tokio::test]
async fn sign_in_and_sign_up_with_errors_pass_axe() {
    let Some(source) = axe::source() else { return };
    let Some(app) = Kanect::start() else { return };
    let carol = app.window(DESKTOP).await;

    carol.goto("/login").await;
    carol.wait_visible("#id_username").await;
    check(&carol, source, "sign-in").await;

    carol.goto("/signup").await;
    carol.fill("#id_username", "carol").await;
    carol.fill("#id_email", "carol-at-example").await;
    carol.fill("#id_password1", "abc").await;
    carol.fill("#id_password2", "something-else").await;
    carol.click("#signup-form button[type=submit]").await;
    carol.wait_visible("#email-error").await;
    check(&carol, source, "sign-up with errors").await;

    let phone = app.window(PHONE).await;
    phone.goto("/login").await;
    phone.wait_visible("#id_username").await;
    check(&phone, source, "sign-in (phone)").await;
    carol.assert_console_clean();
}

#[tokio::test]
async fn the_admin_pages_pass_axe() {
    let Some(source) = axe::source() else { return };
    let Some(app) = Kanect::start() else { return };
    let _ = seed_group(&app);
    app.superuser("root");
    let root = app.window(DESKTOP).await;
    root.goto("/login?next=/admin/").await;
    root.sign_in("root", ROOT_PASSWORD).await;
    root.wait_visible("#main-content a[href='/admin/users/']")
        .await;
    check(&root, source, "the admin index").await;

    root.goto("/admin/users/").await;
    root.wait_visible("#result_list").await;
    check(&root, source, "the users changelist").await;
    root.goto("/admin/messages/").await;
    root.wait_visible("#result_list").await;
    check(&root, source, "the messages changelist").await;

    root.goto("/admin/users/").await;
    root.click_xpath("//table[@id='result_list']//th/a[normalize-space()='alice']")
        .await;
    root.wait_visible("#id_email").await;
    check(&root, source, "a user's change form").await;
    root.click("a[href$='/history/']").await;
    root.wait_text("#main-content h1", "history").await;
    check(&root, source, "a user's history").await;
    root.back().await.expect("back to the change form");
    root.wait_visible("#id_email").await;
    root.click("a[href$='/delete/']").await;
    root.wait_text("#main-content h1", "Are you sure?").await;
    check(&root, source, "a delete confirmation").await;

    let phone = app.window(PHONE).await;
    phone.goto("/login?next=/admin/users/").await;
    phone.sign_in("root", ROOT_PASSWORD).await;
    phone.wait_visible("#result_list").await;
    check(&phone, source, "the users changelist (phone)").await;
    root.assert_console_clean();
}

#[tokio::test]
async fn older_pages_go_in_silently_and_new_messages_are_announced() {
    let Some(app) = Kanect::start() else { return };
    app.member("alice");
    let mut bob = app.member("bob");
    let chat = bob.chat_with("alice");
    for n in 1..=70 {
        say(&mut bob, chat, &format!("History message {n}"));
    }
    let alice = app.signed_in("alice", DESKTOP).await;
    alice
        .click(&format!("#chat-list button[data-key='chat:{chat}']"))
        .await;
    alice.wait_message("History message 70").await;

    // What a screen reader would hear: each insertion of messages, and whether the live
    // region was quiet (aria-live off, or busy) when it happened.
    alice
        .js(
            "const list = document.getElementById('message-list'); window.kanectHeard = []; \
             new MutationObserver((records) => { for (const r of records) { \
               const bodies = [...r.addedNodes].flatMap((n) => n.querySelectorAll ? [...n.querySelectorAll('[data-message-body]')] : []); \
               if (bodies.length === 0) continue; \
               const quiet = list.getAttribute('aria-live') === 'off' || !!list.closest('[aria-busy=true]') || list.getAttribute('aria-busy') === 'true'; \
               window.kanectHeard.push({ first: bodies[0].textContent, count: bodies.length, quiet }); \
             } }).observe(list, { childList: true, subtree: true })",
            vec![],
        )
        .await;
    alice
        .js(
            "document.getElementById('message-scroller').scrollTop = 0",
            vec![],
        )
        .await;
    alice
        .wait_js(
            "the older page",
            "return document.querySelectorAll('#message-list li[data-id]').length === 70",
            vec![],
        )
        .await;
    say(&mut bob, chat, "Fresh news from bob");
    alice.wait_message("Fresh news from bob").await;

    let heard = alice.js("return window.kanectHeard", vec![]).await;
    let insertions = heard.as_array().cloned().unwrap_or_default();
    assert!(
        insertions
            .iter()
            .any(|i| i["first"] == json!("History message 1")),
        "the older page was seen going in: {heard}"
    );
    let loud_history: Vec<&serde_json::Value> = insertions
        .iter()
        .filter(|i| i["first"] != json!("Fresh news from bob") && i["quiet"] != json!(true))
        .collect();
    assert!(
        loud_history.is_empty(),
        "the older page went in while the live region was listening: {heard}"
    );
    let fresh = insertions
        .iter()
        .find(|i| i["first"] == json!("Fresh news from bob"))
        .unwrap_or_else(|| panic!("the new message was inserted: {heard}"));
    assert_eq!(
        fresh["quiet"],
        json!(false),
        "the new message is announced: {heard}"
    );
    alice.assert_console_clean();
}

/// Tabs once to the skip link and follows it; answers where it led (the target's id),
/// whether that is visible, and whether the next Tab lands inside it.
async fn follow_skip_link(window: &Window) -> serde_json::Value {
    from_the_top(window).await;
    press(window, TAB).await;
    let link = window
        .js(
            "const a = document.activeElement; const r = a.getBoundingClientRect(); \
             return a.matches('a[href^=\"#\"]') && r.width > 1 && r.top >= 0 && r.bottom <= innerHeight \
                 ? a.getAttribute('href') : null",
            vec![],
        )
        .await;
    let Some(href) = link.as_str().map(str::to_owned) else {
        panic!("the first Tab shows a skip link on {}", window.path().await);
    };
    press(window, super::web::ENTER).await;
    press(window, TAB).await;
    window
        .js(
            "const t = document.querySelector(arguments[0]); \
             return { target: arguments[0], visible: !!t && t.checkVisibility() && t.getBoundingClientRect().height > 0, \
                      next_inside: !!t && t.contains(document.activeElement) }",
            vec![json!(href)],
        )
        .await
}

/// Puts the start of keyboard navigation at the top of the page, as a fresh load does
/// (pages with an autofocus field start further down).
async fn from_the_top(window: &Window) {
    window
        .js(
            "const mark = document.createElement('span'); mark.tabIndex = -1; \
             document.body.prepend(mark); mark.focus(); window.scrollTo(0, 0); \
             mark.addEventListener('blur', () => mark.remove(), { once: true })",
            vec![],
        )
        .await;
}

async fn press(window: &Window, key: char) {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    window
        .perform_actions(keys)
        .await
        .unwrap_or_else(|e| panic!("pressing {key:?}: {e}"));
}

fn assert_lands(landed: &serde_json::Value, layout: &str) {
    assert_eq!(
        landed["visible"],
        json!(true),
        "{layout}: the target shows: {landed}"
    );
    assert_eq!(
        landed["next_inside"],
        json!(true),
        "{layout}: the next Tab goes on inside it: {landed}"
    );
}

#[tokio::test]
async fn the_skip_link_lands_on_something_visible_on_every_layout() {
    let Some(app) = Kanect::start() else { return };
    let (crew, _) = seed_group(&app);
    let item = format!("#chat-list button[data-key='chat:{crew}']");

    let desktop = app.signed_in("alice", DESKTOP).await;
    desktop.click(&item).await;
    desktop.wait_message("Yes, after lunch.").await;
    let landed = follow_skip_link(&desktop).await;
    assert_lands(&landed, "desktop, a chat");

    let phone = app.signed_in("alice", PHONE).await;
    let landed = follow_skip_link(&phone).await;
    assert_lands(&landed, "phone, the list");
    phone.click(&item).await;
    phone.wait_message("Yes, after lunch.").await;
    phone.wait_hidden("#sidebar").await;
    let landed = follow_skip_link(&phone).await;
    assert_lands(&landed, "phone, a chat");

    phone.goto("/login").await;
    let landed = follow_skip_link(&phone).await;
    assert_lands(&landed, "phone, sign-in");
}

/// Tabs through the page until focus comes back round (at most `limit` presses); fails on
/// any element that takes focus without showing it (no outline, no ring).
async fn assert_focus_always_visible(window: &Window, page: &str, limit: usize) {
    from_the_top(window).await;
    let mut unseen = Vec::new();
    let mut seen = Vec::new();
    for _ in 0..limit {
        press(window, TAB).await;
        let focused = window
            .js(
                "const e = document.activeElement; if (!e || e === document.body || e.kanectSeen) return null; \
                 e.kanectSeen = true; \
                 const s = getComputedStyle(e); \
                 const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0; \
                 const ring = s.boxShadow && s.boxShadow !== 'none'; \
                 const name = e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') \
                     + (e.getAttribute('aria-label') ? `[${e.getAttribute('aria-label')}]` : '') \
                     + ` \"${(e.textContent || e.value || '').trim().slice(0, 30)}\"`; \
                 return { name, shown: outline || ring }",
                vec![],
            )
            .await;
        // Back at the first stop (or on the page itself): the whole round is done.
        let Some(name) = focused["name"].as_str().map(str::to_owned) else {
            break;
        };
        if focused["shown"] != json!(true) {
            unseen.push(name.clone());
        }
        seen.push(name);
    }
    println!("Tab on {page}: {} stops: {seen:?}", seen.len());
    assert!(
        seen.len() > 3,
        "Tab reaches the controls of {page}: {seen:?}"
    );
    assert!(
        unseen.is_empty(),
        "on {page}, focus is not visible on: {unseen:?}"
    );
}

#[tokio::test]
async fn every_control_tab_reaches_shows_focus() {
    let Some(app) = Kanect::start() else { return };
    let (crew, _) = seed_group(&app);
    app.superuser("root");

    let alice = app.signed_in("alice", DESKTOP).await;
    alice
        .click(&format!("#chat-list button[data-key='chat:{crew}']"))
        .await;
    alice.wait_message("Yes, after lunch.").await;
    assert_focus_always_visible(&alice, "the chat home", 80).await;

    let root = app.window(DESKTOP).await;
    root.goto("/login").await;
    assert_focus_always_visible(&root, "sign-in", 20).await;
    root.sign_in("root", ROOT_PASSWORD).await;
    root.goto("/admin/messages/").await;
    root.wait_visible("#result_list").await;
    assert_focus_always_visible(&root, "the messages changelist", 80).await;
}
