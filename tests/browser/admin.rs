//! The admin console in a browser, as a superuser works it: changelists (search, filter,
//! sort, pages), the add / change / delete cycle with its confirmation page, a bulk
//! action, and an object's history.

use serde_json::{json, Value};

use super::web::{say, Kanect, Window, DESKTOP, ENTER, PASSWORD, ROOT_PASSWORD};

/// The messages the console shows after an action ("was added successfully", ...).
const FLASH: &str = "#main-content ul[aria-label='Messages'] li[role=status]";

/// Tall enough for a whole changelist of a few users in the screenshot.
const TALL_DESKTOP: (u32, u32) = (1280, 960);

/// Opens /admin/, which sends a signed-out person to sign in first, and signs in as root.
async fn root_in_admin(app: &Kanect) -> Window {
    app.superuser("root");
    let root = app.window(TALL_DESKTOP).await;
    root.goto("/admin/").await;
    root.wait_visible("#id_username").await;
    assert!(
        root.path().await.starts_with("/login?next="),
        "sent to sign in first"
    );
    root.sign_in("root", ROOT_PASSWORD).await;
    root.wait_js(
        "the admin index",
        "return location.pathname.replace(/\\/$/, '') === '/admin' && document.readyState === 'complete'",
        vec![],
    )
    .await;
    root.wait_visible("#main-content a[href='/admin/users/']")
        .await;
    root
}

/// The first column of every row of the changelist shown.
async fn rows(window: &Window) -> Vec<String> {
    let labels = window
        .js(
            "return [...document.querySelectorAll('#result_list tbody th a')].map((a) => a.textContent.trim())",
            vec![],
        )
        .await;
    labels
        .as_array()
        .map(|all| {
            all.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Waits for the page at `path` (a link was followed) and for its rows to be `expected`.
async fn wait_rows(window: &Window, expected: &[&str]) {
    let script = "return JSON.stringify([...document.querySelectorAll('#result_list tbody th a')] \
                  .map((a) => a.textContent.trim())) === arguments[0]";
    let wanted = serde_json::to_string(expected).expect("JSON");
    window
        .wait_js(
            &format!("the rows {expected:?}"),
            script,
            vec![json!(wanted)],
        )
        .await;
}

#[tokio::test]
async fn the_superuser_searches_filters_sorts_and_pages_changelists() {
    let Some(app) = Kanect::start() else { return };
    let mut alice = app.member("alice");
    let mut bob = app.member("bob");
    for name in ["carol", "dave", "erin"] {
        app.member(name);
    }
    let chat = bob.chat_with("alice");
    for n in 1..=120 {
        let sender = if n % 2 == 0 { &mut bob } else { &mut alice };
        say(sender, chat, &format!("Status update number {n}"));
    }
    let root = root_in_admin(&app).await;

    root.click("#main-content a[href='/admin/users/']").await;
    root.wait_path("/admin/users/").await;
    wait_rows(&root, &["alice", "bob", "carol", "dave", "erin", "root"]).await;
    root.screenshot("admin-changelist").await;

    root.fill("#searchbar", &format!("car{ENTER}")).await;
    root.wait_path("/admin/users/?q=car").await;
    wait_rows(&root, &["carol"]).await;

    root.goto("/admin/users/").await;
    root.click("#changelist-filter a[href*='role=superuser']")
        .await;
    wait_rows(&root, &["root"]).await;
    root.wait_visible("#changelist-filter a[aria-current=true][href*='role=superuser']")
        .await;

    // Sorted by username: a click on the sorted column turns it around.
    root.goto("/admin/users/").await;
    root.click_xpath("//table[@id='result_list']//th//a[contains(., 'Username')]")
        .await;
    wait_rows(&root, &["root", "erin", "dave", "carol", "bob", "alice"]).await;
    root.wait_visible("#result_list th[aria-sort=descending]")
        .await;

    // 120 messages make two pages of the messages changelist.
    root.goto("/admin/messages/").await;
    root.wait_text("#changelist-form", "1–100 of").await;
    assert_eq!(rows(&root).await.len(), 100);
    root.click("#changelist-form a[rel=next]").await;
    root.wait_js(
        "page 2",
        "return new URLSearchParams(location.search).get('p') === '2'",
        vec![],
    )
    .await;
    root.wait_text("#changelist-form", "101–120 of").await;
    assert_eq!(rows(&root).await.len(), 20);

    // Filtered by sender: Alice sent every other one.
    root.goto("/admin/messages/").await;
    root.click_xpath("//details[@id='changelist-filter']//a[.//span[normalize-space()='alice']]")
        .await;
    root.wait_js(
        "Alice's 60 messages",
        "return document.querySelectorAll('#result_list tbody tr').length === 60",
        vec![],
    )
    .await;
    assert!(root.path().await.contains("sender"), "filtered by sender");
    root.assert_console_clean();
}

#[tokio::test]
async fn the_superuser_adds_changes_and_deletes_a_user_and_reads_its_history() {
    let Some(app) = Kanect::start() else { return };
    let root = root_in_admin(&app).await;

    root.goto("/admin/users/").await;
    root.click("a[href='/admin/users/add/']").await;
    root.wait_path("/admin/users/add/").await;
    root.fill("#id_username", "frank").await;
    root.fill("#id_email", "frank@example.com").await;
    root.fill("#id_password1", PASSWORD).await;
    root.fill("#id_password2", "not-the-same-password").await;
    root.click("button[name=_save]").await;
    // Field-level errors; what was typed stays, the passwords do not.
    root.wait_visible("#id_password2_error").await;
    root.wait_visible("#form-errors").await;
    let username = root
        .find("#id_username")
        .await
        .prop("value")
        .await
        .expect("a value");
    assert_eq!(username.as_deref(), Some("frank"));

    root.fill("#id_password1", PASSWORD).await;
    root.fill("#id_password2", PASSWORD).await;
    root.click("button[name=_save]").await;
    root.wait_path("/admin/users/").await;
    root.wait_text(FLASH, "frank").await;
    assert!(rows(&root).await.contains(&"frank".to_owned()));

    root.click_xpath("//table[@id='result_list']//th/a[normalize-space()='frank']")
        .await;
    root.wait_visible("#id_email").await;
    let change = root.path().await;
    assert!(change.ends_with("/change/"), "on the change form: {change}");
    root.fill("#id_email", "frank@kanect.example").await;
    root.find("#id_role")
        .await
        .select_by_value("staff")
        .await
        .expect("the role select");
    root.click("button[name=_continue]").await;
    root.wait_text(FLASH, "frank").await;
    assert_eq!(
        root.path().await,
        change,
        "Save and continue editing stays here"
    );
    let email = root
        .find("#id_email")
        .await
        .prop("value")
        .await
        .expect("a value");
    assert_eq!(email.as_deref(), Some("frank@kanect.example"));
    root.screenshot("admin-change-form").await;

    root.click("a[href$='/history/']").await;
    root.wait_text("#main-content table", "Added").await;
    root.wait_text("#main-content table", "Changed").await;
    root.wait_text("#main-content table", "root").await;

    root.goto(&change).await;
    root.click("a[href$='/delete/']").await;
    root.wait_text("#main-content h1", "Are you sure?").await;
    root.wait_text("#main-content", "frank").await;
    root.click("form input[name=post][value=yes] ~ button[type=submit]")
        .await;
    root.wait_path("/admin/users/").await;
    root.wait_text(FLASH, "deleted successfully").await;
    assert!(!rows(&root).await.contains(&"frank".to_owned()));
    root.assert_console_clean();
}

#[tokio::test]
async fn a_bulk_action_deactivates_the_selected_users() {
    let Some(app) = Kanect::start() else { return };
    for name in ["alice", "bob", "carol"] {
        app.member(name);
    }
    let root = root_in_admin(&app).await;
    root.goto("/admin/users/").await;
    wait_rows(&root, &["alice", "bob", "carol", "root"]).await;

    for name in ["alice", "bob"] {
        let tick =
            format!("//tr[th/a[normalize-space()='{name}']]//input[@name='_selected_action']");
        root.click_xpath(&tick).await;
    }
    root.wait_text("#action-counter", "2 of 4 selected").await;
    root.find("#action-select")
        .await
        .select_by_value("deactivate")
        .await
        .expect("the action select");
    root.click("#changelist-form button[name=index]").await;
    root.wait_text(FLASH, "2").await;

    root.click("#changelist-filter a[href*='is_active=0']")
        .await;
    wait_rows(&root, &["alice", "bob"]).await;
    root.assert_console_clean();

    // Deactivated means locked out.
    let alice = app.window(DESKTOP).await;
    alice.submit_sign_in("alice", PASSWORD).await;
    alice.wait_visible("#form-error").await;
    alice.assert_console_clean();
}
