//! The admin console's layout on a phone and a laptop: no page scrolls sideways at 390 px,
//! a changelist's filters wait behind a button until it is pressed on a phone, and the
//! first row of every changelist shows without scrolling at 1280x800.

use serde_json::{json, Value};

use super::web::{group, say, Kanect, Window, DESKTOP, PHONE, ROOT_PASSWORD};

/// A few people, chats and messages, so that every changelist has rows to show.
fn seed(app: &Kanect) {
    let mut alice = app.member("alice");
    let mut bob = app.member("bob");
    // Nine people, as the team that found the filters pushing the rows down.
    for name in ["carol", "dave", "erin", "frank", "grace", "heidi", "ivan"] {
        app.member(name);
    }
    let chat = bob.chat_with("alice");
    let crew = group(
        &mut bob,
        "Launch crew with a rather long name for a phone",
        &["alice", "carol"],
    );
    for n in 1..=12 {
        say(&mut alice, chat, &format!("Status update number {n}"));
        say(&mut bob, crew, &format!("A longer message, so that its column has something to wrap: number {n} of the morning"));
    }
    app.superuser("root");
}

async fn root_in_admin(app: &Kanect, size: (u32, u32)) -> Window {
    let root = app.window(size).await;
    root.goto("/login?next=/admin/").await;
    root.sign_in("root", ROOT_PASSWORD).await;
    root.wait_visible("#main-content a[href='/admin/users/']")
        .await;
    root
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|all| {
            all.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Every model's changelist, as the navigation lists them.
async fn changelists(window: &Window) -> Vec<String> {
    let links = window
        .js(
            "return [...new Set([...document.querySelectorAll('aside nav a[href^=\"/admin/\"]')] \
             .map((a) => a.getAttribute('href')).filter((h) => h !== '/admin/'))]",
            vec![],
        )
        .await;
    strings(&links)
}

/// How far the page at `path` scrolls sideways, in CSS pixels (0: it fits).
async fn overflow(window: &Window, path: &str) -> i64 {
    window.goto(path).await;
    window.wait_visible("#main-content h1").await;
    let extra = window
        .js(
            "return document.scrollingElement.scrollWidth - window.innerWidth",
            vec![],
        )
        .await;
    extra.as_i64().unwrap_or(i64::MAX)
}

#[tokio::test]
async fn no_admin_page_scrolls_sideways_on_a_phone() {
    let Some(app) = Kanect::start() else { return };
    seed(&app);
    let root = root_in_admin(&app, PHONE).await;

    let mut pages = vec!["/admin/".to_owned()];
    for list in changelists(&root).await {
        root.goto(&list).await;
        root.wait_visible("#main-content h1").await;
        let first = root
            .js(
                "const a = document.querySelector('#result_list tbody th a'); return a && a.getAttribute('href')",
                vec![],
            )
            .await;
        let add = root
            .js(
                "const a = document.querySelector('#main-content a[href$=\"/add/\"]'); return a && a.getAttribute('href')",
                vec![],
            )
            .await;
        pages.push(list);
        if let Some(change) = first.as_str() {
            pages.push(change.to_owned());
            let object = change.trim_end_matches("change/");
            pages.push(format!("{object}history/"));
            pages.push(format!("{object}delete/"));
        }
        if let Some(add) = add.as_str() {
            pages.push(add.to_owned());
        }
    }
    assert!(pages.len() > 10, "the pages to look at: {pages:?}");

    let mut wide = Vec::new();
    for page in &pages {
        let extra = overflow(&root, page).await;
        if extra > 0 {
            wide.push(format!("{page}: {extra} px"));
        }
    }
    assert!(wide.is_empty(), "these scroll sideways at 390 px: {wide:?}");
    root.screenshot("admin-changelist-phone").await;
    root.assert_console_clean();
}

#[tokio::test]
async fn a_changelists_filters_wait_behind_a_button_on_a_phone() {
    let Some(app) = Kanect::start() else { return };
    seed(&app);
    let phone = root_in_admin(&app, PHONE).await;
    let choice = "#changelist-filter a[href*='sender']";

    phone.goto("/admin/messages/").await;
    phone.wait_visible("#result_list").await;
    phone.wait_hidden(choice).await;
    let toggle = "#changelist-filter summary";
    let toggle_top = phone
        .js(
            "return document.querySelector(arguments[0]).getBoundingClientRect().top",
            vec![json!(toggle)],
        )
        .await;
    assert!(
        toggle_top.as_f64().is_some_and(|top| top < 844.0),
        "the filter button shows on the first screen: {toggle_top}"
    );
    phone.click(toggle).await;
    phone.wait_visible(choice).await;
    phone.click(choice).await;
    phone
        .wait_js(
            "the filtered list",
            "return location.search.includes('sender')",
            vec![],
        )
        .await;
    // Filtered: the button says so, and the panel stays closed.
    phone.wait_hidden(choice).await;
    phone.wait_text(toggle, "1").await;

    // On a laptop the filters show without asking.
    let laptop = root_in_admin(&app, DESKTOP).await;
    laptop.goto("/admin/messages/").await;
    laptop.wait_visible(choice).await;
    phone.assert_console_clean();
    laptop.assert_console_clean();
}

#[tokio::test]
async fn the_first_row_of_every_changelist_shows_without_scrolling_at_1280_by_800() {
    let Some(app) = Kanect::start() else { return };
    seed(&app);
    let root = root_in_admin(&app, DESKTOP).await;

    let mut low = Vec::new();
    let mut measured = 0;
    for list in changelists(&root).await {
        root.goto(&list).await;
        root.wait_visible("#main-content h1").await;
        let bottom = root
            .js(
                "const r = document.querySelector('#result_list tbody tr'); \
                 return r ? r.getBoundingClientRect().bottom : null",
                vec![],
            )
            .await;
        let Some(bottom) = bottom.as_f64() else {
            continue;
        };
        println!("{list}: first row ends at y={bottom}");
        measured += 1;
        if bottom >= 800.0 {
            low.push(format!("{list}: {bottom}"));
        }
    }
    assert!(measured >= 3, "changelists with rows: {measured}");
    // However many choices the filters grow to, they sit beside the rows, not above them.
    root.goto("/admin/messages/").await;
    let beside = root
        .js(
            "const f = document.getElementById('changelist-filter').getBoundingClientRect(); \
             const t = document.getElementById('changelist-form').getBoundingClientRect(); \
             return f.left >= t.right",
            vec![],
        )
        .await;
    assert_eq!(
        beside,
        json!(true),
        "the filters are a column beside the rows"
    );
    assert!(low.is_empty(), "first rows below the fold: {low:?}");
    root.assert_console_clean();
}
