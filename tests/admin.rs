//! The admin console: roles, every page and action of each model, validation, history,
//! and the SQL whitelist against hostile parameters.

use crate::common;

use common::*;
use rocket::http::Status;
use serde_json::{json, Value};

/// Every GET page of the console, for one user (id 1), chat 1, message 1 and file 1.
const PAGES: &[&str] = &[
    "/admin/",
    "/admin/users/",
    "/admin/users/add/",
    "/admin/users/1/change/",
    "/admin/users/1/history/",
    "/admin/users/2/password/",
    "/admin/chats/",
    "/admin/chats/add/",
    "/admin/chats/1/change/",
    "/admin/chats/1/delete/",
    "/admin/chats/1/history/",
    "/admin/messages/",
    "/admin/messages/add/",
    "/admin/messages/1/change/",
    "/admin/messages/1/delete/",
    "/admin/messages/1/history/",
    "/admin/files/",
    "/admin/files/1/change/",
    "/admin/files/1/delete/",
    "/admin/files/1/history/",
    "/admin/files/1/download/",
    "/admin/log/",
];

/// root (superuser, id 1), bob (member, id 2), a direct chat between them (id 1) with a
/// message (id 1), and bob's upload to it (file 1, not sent).
async fn seeded(app: &TestApp) -> (Person<'_>, Person<'_>) {
    let root = app.admin("root", "superuser").await;
    let bob = app.signup("bob").await;
    let chat = root.chat_with("bob").await;
    root.say(chat, "hello bob").await;
    bob.uploaded(chat, "notes.txt", b"some notes\n").await;
    (root, bob)
}

#[rocket::async_test]
async fn anonymous_visitors_are_sent_to_sign_in() {
    let app = TestApp::new().await;
    seeded(&app).await;
    for page in PAGES {
        let response = app.client.get(*page).dispatch().await;
        assert_eq!(response.status(), Status::SeeOther, "{page}");
        let to = location(&response);
        assert!(to.starts_with("/login?next=%2Fadmin"), "{page} → {to}");
    }
}

#[rocket::async_test]
async fn members_are_forbidden_everywhere() {
    let app = TestApp::new().await;
    let (_, bob) = seeded(&app).await;
    for page in PAGES {
        bob.page(page, Status::Forbidden).await;
    }
    for post in [
        "/admin/users/",
        "/admin/users/add/",
        "/admin/users/1/change/",
        "/admin/users/1/delete/",
        "/admin/users/1/password/",
    ] {
        let response = bob
            .post_form(post, &[("post", "yes"), ("is_active", "")])
            .await;
        assert_eq!(response.status(), Status::Forbidden, "POST {post}");
    }
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE is_active = TRUE")
            .await,
        2
    );
}

#[rocket::async_test]
async fn staff_and_superusers_see_every_page_with_or_without_the_slash() {
    let app = TestApp::new().await;
    let (root, _) = seeded(&app).await;
    let staff = app.admin("stella", "staff").await;
    for page in PAGES {
        root.page(page, Status::Ok).await;
        root.page(page.trim_end_matches('/'), Status::Ok).await;
        staff.page(page, Status::Ok).await;
    }
    // Only a superuser deletes users.
    root.page("/admin/users/2/delete/", Status::Ok).await;
    staff
        .page("/admin/users/2/delete/", Status::Forbidden)
        .await;
    // Unknown models and objects, and ids that are not ids.
    for page in [
        "/admin/nope/",
        "/admin/users/999/change/",
        "/admin/users/abc/change/",
        "/admin/users/-1/change/",
        "/admin/users/99999999999999999999/change/",
    ] {
        root.page(page, Status::NotFound).await;
    }
    // Django's /admin/<model>/<id>/ leads to the change page.
    let response = root.get("/admin/users/2/").await;
    assert_eq!(location(&response), "/admin/users/2/change/");
}

#[rocket::async_test]
async fn unsafe_requests_need_the_csrf_token() {
    let app = TestApp::new().await;
    let (root, _) = seeded(&app).await;
    for (path, fields) in [
        (
            "/admin/users/",
            vec![("action", "deactivate"), ("_selected_action", "2")],
        ),
        (
            "/admin/users/2/change/",
            vec![
                ("username", "bobby"),
                ("role", "member"),
                ("is_active", "on"),
            ],
        ),
        ("/admin/users/2/delete/", vec![("post", "yes")]),
        (
            "/admin/users/2/password/",
            vec![
                ("password1", "new-okapi-lantern-7"),
                ("password2", "new-okapi-lantern-7"),
            ],
        ),
        (
            "/admin/chats/add/",
            vec![("kind", "group"), ("title", "x"), ("status", "open")],
        ),
    ] {
        for token in [None, Some("forged")] {
            let response = root.post_form_token(path, token, &fields).await;
            assert_eq!(
                response.status(),
                Status::Forbidden,
                "POST {path} with {token:?}"
            );
        }
    }
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE username = 'bob' AND is_active = TRUE")
            .await,
        1
    );
    assert_eq!(app.count("SELECT count(*) FROM admin_log").await, 0);
}

#[rocket::async_test]
async fn the_index_shows_counts_recent_actions_and_the_chart() {
    let app = TestApp::new().await;
    let (root, _) = seeded(&app).await;
    root.post_form(
        "/admin/users/2/change/",
        &[
            ("username", "bob"),
            ("email", "b@example.com"),
            ("role", "member"),
            ("is_active", "on"),
        ],
    )
    .await;
    let html = root.page("/admin/", Status::Ok).await;
    for text in [
        "/admin/users/",
        "/admin/chats/",
        "/admin/messages/",
        "/admin/files/",
        "/admin/log/",
        "Changed email address.",
        "<svg",
        "Messages per day",
    ] {
        assert!(html.contains(text), "index shows {text}");
    }
}

#[rocket::async_test]
async fn adding_a_user_validates_each_field_and_keeps_what_was_typed() {
    let app = TestApp::new().await;
    let (root, _) = seeded(&app).await;
    let response = root
        .post_form(
            "/admin/users/add/",
            &[
                ("username", "x"),
                ("email", "nope"),
                ("role", "member"),
                ("password1", "123"),
                ("password2", "456"),
                ("_save", "1"),
            ],
        )
        .await;
    assert_eq!(response.status(), Status::Ok);
    let html = unescape(&response.into_string().await.unwrap_or_default());
    assert!(html.contains("Please correct the errors below."));
    assert!(html.contains("Enter a valid email address."));
    assert!(
        html.contains("This password is too short."),
        "password rules apply"
    );
    assert!(html.contains("value=\"nope\""), "typed email kept");
    assert!(
        !html.contains("value=\"123\""),
        "passwords are never echoed"
    );
    // A taken name, in any case.
    let response = root
        .post_form(
            "/admin/users/add/",
            &[
                ("username", "BOB"),
                ("role", "member"),
                ("password1", PASSWORD),
                ("password2", PASSWORD),
            ],
        )
        .await;
    let html = unescape(&response.into_string().await.unwrap_or_default());
    assert!(html.contains("A user with that username already exists."));
    assert_eq!(app.count("SELECT count(*) FROM users").await, 2);
}

/// Names that pass for "root" or "bob" (issue 11, finding 7), each with what the form says.
const LOOK_ALIKES: &[(&str, &str)] = &[
    ("r\u{43e}ot", "Use the letters of one alphabet only"), // Cyrillic о
    ("ｒｏｏｔ", "A user with that username already exists."), // fullwidth
    ("𝐫𝐨𝐨𝐭", "U+1D42B, is not allowed"),                    // mathematical bold
    ("\u{280}oot", "U+0280, is a technical or historic character"), // small capital R
    ("b\u{3bf}b", "Use the letters of one alphabet only"),  // Greek omicron
    ("bob\u{3164}", "U+3164, is not allowed"),              // Hangul filler: blank
    (
        "\u{441}\u{43e}\u{440}",
        "looks like one that is already taken",
    ), // all Cyrillic
];

#[rocket::async_test]
async fn the_console_refuses_names_that_pass_for_someone_else() {
    let app = TestApp::new().await;
    let (root, _) = seeded(&app).await;
    app.signup("cop").await;
    for (fake, message) in LOOK_ALIKES {
        let response = root
            .post_form(
                "/admin/users/add/",
                &[
                    ("username", fake),
                    ("role", "member"),
                    ("password1", PASSWORD),
                    ("password2", PASSWORD),
                ],
            )
            .await;
        assert_eq!(response.status(), Status::Ok, "{fake}: the form again");
        let html = unescape(&response.into_string().await.unwrap_or_default());
        assert!(html.contains(message), "{fake}: {message:?} in\n{html}");
    }
    // Renaming someone into a look-alike is refused too; keeping one's own name is not.
    let bob = app
        .count("SELECT id FROM users WHERE username = 'bob'")
        .await;
    let change = format!("/admin/users/{bob}/change/");
    let fields = |name| [("username", name), ("role", "member"), ("is_active", "on")];
    let response = root.post_form(&change, &fields("r\u{1d0f}\u{1d0f}t")).await;
    let html = unescape(&response.into_string().await.unwrap_or_default());
    assert!(html.contains("technical or historic"), "{html}");
    let response = root.post_form(&change, &fields("cop")).await;
    let html = unescape(&response.into_string().await.unwrap_or_default());
    assert!(
        html.contains("A user with that username already exists."),
        "{html}"
    );
    let response = root.post_form(&change, &fields("Bob")).await;
    assert_eq!(
        response.status(),
        Status::SeeOther,
        "bob may change his case"
    );
    assert_eq!(app.count("SELECT count(*) FROM users").await, 3);
}

#[rocket::async_test]
async fn the_three_save_buttons_go_where_django_goes() {
    let app = TestApp::new().await;
    let (root, _) = seeded(&app).await;
    let add = |name: &'static str, button: &'static str| {
        let root = &root;
        async move {
            root.post_form(
                "/admin/users/add/",
                &[
                    ("username", name),
                    ("email", ""),
                    ("role", "member"),
                    ("is_active", "on"),
                    ("password1", PASSWORD),
                    ("password2", PASSWORD),
                    (button, "1"),
                ],
            )
            .await
        }
    };
    let response = add("carol", "_save").await;
    assert_eq!(location(&response), "/admin/users/");
    let html = root.follow(response).await;
    assert!(html.contains("The user “carol” was added successfully."));
    let response = add("dave", "_addanother").await;
    assert_eq!(location(&response), "/admin/users/add/");
    let response = add("erin", "_continue").await;
    let erin = app
        .count("SELECT id FROM users WHERE username = 'erin'")
        .await;
    assert_eq!(location(&response), format!("/admin/users/{erin}/change/"));
    assert!(root
        .follow(response)
        .await
        .contains("You may edit it again below."));
    // The new person can sign in with the password set.
    app.login("carol", PASSWORD).await;
    assert_eq!(
        app.count("SELECT count(*) FROM admin_log WHERE action_flag = 1 AND object_type = 'users'")
            .await,
        3
    );
}

#[rocket::async_test]
async fn a_change_is_logged_with_the_fields_it_changed() {
    let app = TestApp::new().await;
    let (root, _) = seeded(&app).await;
    let response = root
        .post_form(
            "/admin/users/2/change/",
            &[
                ("username", "bobby"),
                ("email", "bob@new.example"),
                ("role", "member"),
                ("is_active", "on"),
                ("_save", "1"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/admin/users/");
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE username = 'bobby' AND username_key = 'bobby'")
            .await,
        1
    );
    let html = root.page("/admin/users/2/history/", Status::Ok).await;
    assert!(
        html.contains("Changed username and email address."),
        "{html}"
    );
    assert!(html.contains("root"));
    // Nothing changed is logged as such.
    root.post_form(
        "/admin/users/2/change/",
        &[
            ("username", "bobby"),
            ("email", "bob@new.example"),
            ("role", "member"),
            ("is_active", "on"),
        ],
    )
    .await;
    assert_eq!(
        app.count("SELECT count(*) FROM admin_log WHERE change_message = 'No fields changed.'")
            .await,
        1
    );
}

#[rocket::async_test]
async fn deactivating_ends_the_persons_sessions_at_once() {
    let app = TestApp::new().await;
    let (root, bob) = seeded(&app).await;
    bob.page("/", Status::Ok).await;
    let response = root
        .post_form(
            "/admin/users/2/change/",
            &[
                ("username", "bob"),
                ("role", "member"),
                ("email", "bob@example.com"),
            ],
        )
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(bob.get("/api/me").await.status(), Status::Unauthorized);
    assert_eq!(
        app.count("SELECT count(*) FROM sessions WHERE user_id = 2")
            .await,
        0
    );
    let log = app.count("SELECT count(*) FROM admin_log WHERE change_message LIKE 'Changed active. Ended 1 session(s).'").await;
    assert_eq!(log, 1);
}

#[rocket::async_test]
async fn bulk_actions_activate_and_deactivate_in_one_logged_transaction() {
    let app = TestApp::new().await;
    let (root, bob) = seeded(&app).await;
    let carol = app.signup("carol").await;
    let response = root
        .post_form(
            "/admin/users/",
            &[
                ("action", "deactivate"),
                ("_selected_action", "2"),
                ("_selected_action", "3"),
            ],
        )
        .await;
    assert!(root.follow(response).await.contains("Deactivated 2 users."));
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE is_active = FALSE")
            .await,
        2
    );
    assert_eq!(bob.get("/api/me").await.status(), Status::Unauthorized);
    assert_eq!(carol.get("/api/me").await.status(), Status::Unauthorized);
    // Select all across pages, restricted by the list's own search.
    let response = root
        .post_form(
            "/admin/users/?q=car",
            &[("action", "activate"), ("select_across", "1")],
        )
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE is_active = FALSE")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT count(*) FROM admin_log WHERE action_flag = 2")
            .await,
        3
    );
    // No selection, no action.
    let response = root
        .post_form("/admin/users/", &[("action", "activate")])
        .await;
    assert!(root
        .follow(response)
        .await
        .contains("Items must be selected"));
    let response = root
        .post_form(
            "/admin/users/",
            &[("action", "drop_table"), ("_selected_action", "2")],
        )
        .await;
    assert!(root.follow(response).await.contains("No action selected."));
}

#[rocket::async_test]
async fn nobody_locks_themselves_out() {
    let app = TestApp::new().await;
    let (root, _) = seeded(&app).await;
    let response = root
        .post_form(
            "/admin/users/1/change/",
            &[("username", "root"), ("role", "member"), ("email", "")],
        )
        .await;
    assert_eq!(response.status(), Status::Ok, "the form again");
    let html = unescape(&response.into_string().await.unwrap_or_default());
    assert!(html.contains("You cannot deactivate your own account."));
    assert!(html.contains("You cannot take away your own admin access."));
    // The last active superuser cannot step down to staff either.
    let response = root
        .post_form(
            "/admin/users/1/change/",
            &[("username", "root"), ("role", "staff"), ("is_active", "on")],
        )
        .await;
    let html = unescape(&response.into_string().await.unwrap_or_default());
    assert!(html.contains("at least one active superuser"), "{html}");
    let response = root
        .post_form(
            "/admin/users/",
            &[("action", "deactivate"), ("_selected_action", "1")],
        )
        .await;
    assert!(root
        .follow(response)
        .await
        .contains("You cannot deactivate your own account."));
    let response = root
        .post_form("/admin/users/1/delete/", &[("post", "yes")])
        .await;
    assert!(root
        .follow(response)
        .await
        .contains("You cannot delete your own account."));
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE role = 'superuser' AND is_active = TRUE")
            .await,
        1
    );
    // With a second superuser, stepping down is fine.
    app.admin("sam", "superuser").await;
    let response = root
        .post_form(
            "/admin/users/1/change/",
            &[("username", "root"), ("role", "staff"), ("is_active", "on")],
        )
        .await;
    assert_eq!(response.status(), Status::SeeOther);
}

#[rocket::async_test]
async fn staff_manage_members_but_not_staff() {
    let app = TestApp::new().await;
    let (_, _) = seeded(&app).await;
    let staff = app.admin("stella", "staff").await; // id 3
                                                    // Staff may add members, not staff.
    let response = staff
        .post_form(
            "/admin/users/add/",
            &[
                ("username", "newbie"),
                ("role", "staff"),
                ("password1", PASSWORD),
                ("password2", PASSWORD),
            ],
        )
        .await;
    let html = unescape(&response.into_string().await.unwrap_or_default());
    assert!(html.contains("Select a valid choice. staff is not one of the available choices."));
    let html = staff.page("/admin/users/add/", Status::Ok).await;
    assert!(
        !html.contains("value=\"superuser\""),
        "staff are not offered the superuser role"
    );
    // A superuser's page is view-only for staff, and its POST is refused.
    let html = staff.page("/admin/users/1/change/", Status::Ok).await;
    assert!(!html.contains("name=\"_save\""));
    let response = staff
        .post_form(
            "/admin/users/1/change/",
            &[("username", "root"), ("role", "member")],
        )
        .await;
    assert_eq!(response.status(), Status::Forbidden);
    staff
        .page("/admin/users/1/password/", Status::Forbidden)
        .await;
    let response = staff
        .post_form(
            "/admin/users/",
            &[
                ("action", "deactivate"),
                ("_selected_action", "1"),
                ("_selected_action", "2"),
            ],
        )
        .await;
    assert!(
        (staff.follow(response).await).contains("You may not change some of the selected users")
    );
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE is_active = FALSE")
            .await,
        0
    );
    // No user deletion for staff, not even in bulk.
    let html = staff.page("/admin/users/", Status::Ok).await;
    assert!(!html.contains("delete_selected"));
    let response = staff
        .post_form(
            "/admin/users/",
            &[
                ("action", "delete_selected"),
                ("_selected_action", "2"),
                ("post", "yes"),
            ],
        )
        .await;
    assert!(staff.follow(response).await.contains("No action selected."));
    assert_eq!(
        staff
            .post_form("/admin/users/2/delete/", &[("post", "yes")])
            .await
            .status(),
        Status::Forbidden
    );
    // But members are theirs to manage.
    let response = staff
        .post_form(
            "/admin/users/2/change/",
            &[("username", "bob"), ("role", "member"), ("email", "")],
        )
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(
        app.count("SELECT is_active FROM users WHERE id = 2").await,
        0
    );
}

#[rocket::async_test]
async fn passwords_are_set_through_their_own_form_and_never_shown() {
    let app = TestApp::new().await;
    let (root, bob) = seeded(&app).await;
    let hash = app
        .text("SELECT password_hash FROM users WHERE id = 2")
        .await;
    let html = root.page("/admin/users/2/change/", Status::Ok).await;
    assert!(html.contains("algorithm: argon2id"));
    let digest = hash.rsplit('$').next().unwrap_or_default();
    assert!(!html.contains(digest), "the hash itself never shows");
    assert!(html.contains("/admin/users/2/password/"));
    // Mismatch and weak passwords are refused with field errors.
    let response = root
        .post_form(
            "/admin/users/2/password/",
            &[("password1", "new-okapi-lantern-7"), ("password2", "other")],
        )
        .await;
    assert!(unescape(&response.into_string().await.unwrap_or_default())
        .contains("The two password fields didn't match."));
    let response = root
        .post_form(
            "/admin/users/2/password/",
            &[("password1", "password"), ("password2", "password")],
        )
        .await;
    assert!(unescape(&response.into_string().await.unwrap_or_default())
        .contains("This password is too common."));
    // A good one ends bob's sessions and works.
    let response = root
        .post_form(
            "/admin/users/2/password/",
            &[
                ("password1", "new-okapi-lantern-7"),
                ("password2", "new-okapi-lantern-7"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/admin/users/2/change/");
    assert_eq!(bob.get("/api/me").await.status(), Status::Unauthorized);
    app.login("bob", "new-okapi-lantern-7").await;
    // Changing one's own password keeps one's own session.
    root.post_form(
        "/admin/users/1/password/",
        &[
            ("password1", "new-okapi-lantern-8"),
            ("password2", "new-okapi-lantern-8"),
        ],
    )
    .await;
    root.page("/admin/", Status::Ok).await;
    assert_eq!(
        app.count("SELECT count(*) FROM admin_log WHERE change_message = 'Changed password.'")
            .await,
        2
    );
}

#[rocket::async_test]
async fn deleting_a_user_confirms_what_goes_with_them() {
    let app = TestApp::new().await;
    let (root, _) = seeded(&app).await;
    let html = root.page("/admin/users/2/delete/", Status::Ok).await;
    assert!(html.contains("Are you sure?"));
    assert!(html.contains("Chat memberships"));
    assert!(html.contains("name=\"post\" value=\"yes\""));
    // Without post=yes nothing happens but the confirmation again.
    let response = root.post_form("/admin/users/2/delete/", &[]).await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(app.count("SELECT count(*) FROM users").await, 2);
    let response = root
        .post_form("/admin/users/2/delete/", &[("post", "yes")])
        .await;
    assert_eq!(location(&response), "/admin/users/");
    assert!(root
        .follow(response)
        .await
        .contains("The user “bob” was deleted successfully."));
    assert_eq!(app.count("SELECT count(*) FROM users").await, 1);
    assert_eq!(
        app.count("SELECT count(*) FROM chat_members WHERE user_id = 2")
            .await,
        0
    );
    assert_eq!(app.count("SELECT count(*) FROM admin_log WHERE action_flag = 3 AND object_repr = 'bob' AND object_id = '2'").await, 1);
}

#[rocket::async_test]
async fn bulk_delete_asks_first_then_deletes_and_logs_each() {
    let app = TestApp::new().await;
    let (root, _) = seeded(&app).await;
    let chat = root.chat_with("bob").await;
    for i in 0..3 {
        root.say(chat, &format!("note {i}")).await;
    }
    let fields = [
        ("action", "delete_selected"),
        ("_selected_action", "2"),
        ("_selected_action", "3"),
    ];
    let response = root.post_form("/admin/messages/", &fields).await;
    assert_eq!(response.status(), Status::Ok);
    let html = unescape(&response.into_string().await.unwrap_or_default());
    assert!(html.contains("note 0") && html.contains("note 1") && !html.contains("note 2"));
    assert!(html.contains("name=\"_selected_action\" value=\"2\""));
    let mut confirmed = fields.to_vec();
    confirmed.push(("post", "yes"));
    let response = root.post_form("/admin/messages/", &confirmed).await;
    assert!(root
        .follow(response)
        .await
        .contains("Successfully deleted 2 messages."));
    assert_eq!(app.count("SELECT count(*) FROM messages").await, 2);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM admin_log WHERE action_flag = 3 AND object_type = 'messages'"
        )
        .await,
        2
    );
}

#[rocket::async_test]
async fn chats_are_added_and_changed_with_their_members_inline() {
    let app = TestApp::new().await;
    let (root, bob) = seeded(&app).await;
    app.signup("carol").await;
    let response = root
        .post_form(
            "/admin/chats/add/",
            &[
                ("kind", "group"),
                ("title", "Team"),
                ("status", "open"),
                ("members-0-user", "bob"),
                ("members-1-user", "carol"),
                ("members-2-user", ""),
                ("_continue", "1"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/admin/chats/2/change/");
    assert_eq!(
        app.count("SELECT count(*) FROM chat_members WHERE chat_id = 2")
            .await,
        2
    );
    assert!(
        bob.chats().await.iter().any(|c| c["title"] == "Team"),
        "bob sees the new group"
    );
    // Remove carol, add root, close it.
    let response = root
        .post_form(
            "/admin/chats/2/change/",
            &[
                ("title", "Team"),
                ("status", "closed"),
                ("members-0-user", "bob"),
                ("members-1-user", "carol"),
                ("members-1-DELETE", "on"),
                ("members-2-user", "root"),
            ],
        )
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(
        app.count("SELECT count(*) FROM chat_members WHERE chat_id = 2 AND user_id IN (1, 2)")
            .await,
        2
    );
    assert_eq!(
        app.count("SELECT count(*) FROM chat_members WHERE chat_id = 2")
            .await,
        2
    );
    let message = app.count("SELECT count(*) FROM admin_log WHERE change_message = 'Changed status. Removed member “carol”. Added member “root”.'").await;
    assert_eq!(message, 1);
    // Unknown members and missing titles are field errors.
    let response = root
        .post_form(
            "/admin/chats/add/",
            &[
                ("kind", "group"),
                ("title", ""),
                ("status", "open"),
                ("members-0-user", "ghost"),
            ],
        )
        .await;
    let html = unescape(&response.into_string().await.unwrap_or_default());
    assert!(html.contains("A group needs a title.") && html.contains("No user named “ghost”."));
    // A direct chat is unique per pair.
    let response = root
        .post_form(
            "/admin/chats/add/",
            &[
                ("kind", "direct"),
                ("status", "open"),
                ("members-0-user", "root"),
                ("members-1-user", "bob"),
            ],
        )
        .await;
    let html = unescape(&response.into_string().await.unwrap_or_default());
    assert!(html.contains("A direct chat between these two people already exists."));
    assert_eq!(app.count("SELECT count(*) FROM chats").await, 2);
}

/// A message a staff member adds in someone else's name says so to every reader, and the
/// log records who (issue 11, finding 12e).
#[rocket::async_test]
async fn a_message_added_in_the_console_in_bobs_name_is_marked_for_everyone() {
    let app = TestApp::new().await;
    let (root, bob) = seeded(&app).await;
    let stella = app.admin("stella", "staff").await; // id 3
    let team = root.group("Team", &["bob", "stella"]).await;
    root.say(team, "hello bob").await;
    let chat = team.to_string();
    let response = stella
        .post_form(
            "/admin/messages/add/",
            &[("chat_id", &chat), ("sender_id", "2"), ("body", "I resign")],
        )
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    let response = stella
        .post_form(
            "/admin/messages/add/",
            &[
                ("chat_id", &chat),
                ("sender_id", "3"),
                ("body", "stella here"),
            ],
        )
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    let normal = bob.say(team, "hello").await;
    assert!(normal["added_by"].is_null(), "{normal}");

    for reader in [&root, &bob] {
        let history = reader.history(team, "").await;
        let by: Vec<(&str, &Value)> = history["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["body"].as_str().unwrap(), &m["added_by"]))
            .collect();
        assert_eq!(
            by,
            [
                ("hello bob", &Value::Null),
                ("I resign", &json!("stella")),
                ("stella here", &Value::Null), // her own name: nothing to mark
                ("hello", &Value::Null),
            ],
            "{} reads who wrote what",
            reader.name
        );
        let updates = reader.poll(0, 0).await;
        let added: Vec<&Value> = common::events(&updates)
            .iter()
            .filter(|e| e["type"] == "message" && e["message"]["body"] == "I resign")
            .collect();
        assert_eq!(added.len(), 1, "{updates}");
        assert_eq!(added[0]["message"]["added_by"], "stella");
    }
    // Also where a chat shows its last message, before the next one arrives.
    stella
        .post_form(
            "/admin/messages/add/",
            &[("chat_id", &chat), ("sender_id", "2"), ("body", "me again")],
        )
        .await;
    assert_eq!(bob.chat(team).await["last_message"]["added_by"], "stella");
    assert_eq!(
        app.count(
            "SELECT count(*) FROM admin_log l JOIN users u ON u.id = l.user_id
             WHERE u.username = 'stella' AND l.object_type = 'messages' AND l.action_flag = 1
               AND l.change_message = 'Added. Sent in the name of “bob”.'"
        )
        .await,
        2
    );
}

#[rocket::async_test]
async fn messages_are_added_edited_and_filtered() {
    let app = TestApp::new().await;
    let (root, bob) = seeded(&app).await;
    app.signup("carol").await;
    // The sender must be in the chat.
    let response = root
        .post_form(
            "/admin/messages/add/",
            &[("chat_id", "1"), ("sender_id", "3"), ("body", "hi")],
        )
        .await;
    assert!(unescape(&response.into_string().await.unwrap_or_default())
        .contains("The sender is not a member of that chat."));
    let response = root
        .post_form(
            "/admin/messages/add/",
            &[
                ("chat_id", "1"),
                ("sender_id", "1"),
                ("body", "  from the console  "),
            ],
        )
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    let updates = bob.poll(0, 0).await;
    assert_eq!(
        common::bodies(&updates).last().map(String::as_str),
        Some("from the console")
    );
    // Editing marks the message edited.
    root.post_form("/admin/messages/2/change/", &[("body", "edited")])
        .await;
    assert_eq!(app.count("SELECT count(*) FROM messages WHERE id = 2 AND body = 'edited' AND edited_at IS NOT NULL").await, 1);
    // Filters: chat, sender, date; a filter's choices show counts.
    let html = root.page("/admin/messages/?sender_id=2", Status::Ok).await;
    assert!(html.contains("0 messages") || !html.contains("/admin/messages/1/change/"));
    let html = root
        .page("/admin/messages/?chat=1&sender=1&date=today", Status::Ok)
        .await;
    assert!(
        html.contains("/admin/messages/1/change/") && html.contains("/admin/messages/2/change/")
    );
    let html = root
        .page("/admin/messages/?created_at=2001-01-01", Status::Ok)
        .await;
    assert!(!html.contains("/admin/messages/1/change/"));
}

#[rocket::async_test]
async fn changelists_search_sort_and_page_in_sql() {
    let app = TestApp::new().await;
    let root = app.admin("root", "superuser").await;
    let values: Vec<String> = (0..250)
        .map(|i| format!("('user{i:03}', 'user{i:03}', 'u{i}@example.com', 'x', 'member', {i})"))
        .collect();
    app.sql(&format!("INSERT INTO users (username, username_key, email, password_hash, role, created_at) VALUES {}", values.join(","))).await;
    let html = root.page("/admin/users/", Status::Ok).await;
    assert!(html.contains("251"), "the total count");
    assert!(
        html.contains("/admin/users/2/change/") && !html.contains("/admin/users/150/change/"),
        "page 1 of 100"
    );
    let html = root.page("/admin/users/?p=3", Status::Ok).await;
    assert!(html.contains("/admin/users/251/change/"));
    let html = root
        .page("/admin/users/?o=-username&per_page=5", Status::Ok)
        .await;
    let first = html.find("user249").expect("user249 first");
    assert!(html.find("user248").is_some_and(|second| second > first));
    assert!(!html.contains("user244"), "five per page");
    let html = root.page("/admin/users/?q=user12", Status::Ok).await;
    assert!(html.contains("user120") && html.contains("user129") && !html.contains("user130"));
    // LIKE wildcards are literal.
    let html = root.page("/admin/users/?q=user_", Status::Ok).await;
    assert!(!html.contains("user000"));
    let html = root.page("/admin/users/?role=superuser", Status::Ok).await;
    assert!(html.contains("/admin/users/1/change/") && !html.contains("/admin/users/2/change/"));
    // The role filter still counts every role (its own choice aside), within the search.
    assert!(html.contains(">250<"), "250 members to switch to");
    let html = root
        .page("/admin/users/?role=superuser&q=user1", Status::Ok)
        .await;
    assert!(html.contains(">100<"), "user100 to user199 are members");
}

#[rocket::async_test]
async fn hostile_list_parameters_change_nothing_and_break_nothing() {
    let app = TestApp::new().await;
    let (root, _) = seeded(&app).await;
    let hostile = [
        "o=username;DROP%20TABLE%20users",
        "o=-(SELECT 1)",
        "o=password_hash",
        "o=1",
        "o=,,,-,",
        "p=-5",
        "p=abc",
        "p=99999999999999999999",
        "per_page=0",
        "per_page=-1",
        "per_page=100000000",
        "role=admin' OR '1'='1",
        "is_active=2",
        "chat_id=1 OR 1=1",
        "created_at=today'--",
        "q=%27%22%3B--",
        "q=%25",
        "q={{7*7}}",
        "sender_id=-1",
        "action_flag=9",
        "type=image' OR '1'='1",
        "o=-size,size,(size)",
    ];
    for model in ["users", "chats", "messages", "files", "log"] {
        for query in hostile {
            let query = query.replace(' ', "%20");
            let html = root
                .page(&format!("/admin/{model}/?{query}"), Status::Ok)
                .await;
            // Not `!contains("49")`: random tokens in the page contain it now and then.
            if query.contains("7*7") {
                assert!(html.contains("{{7*7}}"), "no template injection: {query}");
            }
        }
    }
    assert_eq!(app.count("SELECT count(*) FROM users").await, 2);
    assert_eq!(app.count("SELECT count(*) FROM files").await, 1);
    // A hostile ordering falls back to the default; an unknown role filters nothing.
    let html = root
        .page("/admin/users/?role=admin&o=password_hash", Status::Ok)
        .await;
    assert!(html.contains("/admin/users/1/change/") && html.contains("/admin/users/2/change/"));
}

#[rocket::async_test]
async fn the_log_is_view_only_and_per_object_history_is_complete() {
    let app = TestApp::new().await;
    let (root, _) = seeded(&app).await;
    root.post_form("/admin/chats/1/change/", &[("status", "closed")])
        .await;
    let html = root.page("/admin/chats/1/history/", Status::Ok).await;
    assert!(html.contains("Changed status."));
    let html = root.page("/admin/log/", Status::Ok).await;
    assert!(html.contains("/admin/log/1/change/"));
    let html = root.page("/admin/log/1/change/", Status::Ok).await;
    assert!(!html.contains("name=\"_save\""), "view-only");
    root.page("/admin/log/add/", Status::Forbidden).await;
    assert_eq!(
        root.post_form("/admin/log/1/change/", &[("change_message", "rewritten")])
            .await
            .status(),
        Status::Forbidden
    );
    assert_eq!(
        root.post_form("/admin/log/1/delete/", &[("post", "yes")])
            .await
            .status(),
        Status::Forbidden
    );
    assert_eq!(app.count("SELECT count(*) FROM admin_log").await, 1);
}

#[rocket::async_test]
async fn what_people_typed_is_escaped_in_every_console_page() {
    let app = TestApp::new().await;
    let (root, _) = seeded(&app).await;
    let xss = "<script>alert(1)</script>";
    let chat = root.group(xss, &["bob"]).await;
    root.say(chat, xss).await;
    for page in [
        "/admin/chats/",
        "/admin/messages/",
        &format!("/admin/chats/{chat}/change/"),
        "/admin/messages/2/change/",
        "/admin/messages/?q=%3Cscript%3E",
    ] {
        let response = root.get(page).await;
        assert_eq!(response.status(), Status::Ok);
        let html = response.into_string().await.unwrap_or_default();
        assert!(!html.contains(xss), "{page} escapes");
    }
}

#[rocket::async_test]
async fn the_message_changelist_searches_words_through_the_search_index() {
    let app = TestApp::new().await;
    let (root, bob) = seeded(&app).await;
    let chat = root.chat_with("bob").await;
    bob.say(chat, "Crème brûlée recipe for Friday").await;
    root.say(chat, "unrelated words").await;
    let shown = |q: &'static str| {
        let root = &root;
        async move {
            root.page(&format!("/admin/messages/?q={q}"), Status::Ok)
                .await
        }
    };
    // Case and accents folded, the word or the start of one, as people's search has it.
    for q in ["creme", "BRULEE", "rec", "creme+friday"] {
        let html = shown(q).await;
        assert!(html.contains("Crème brûlée recipe"), "q={q} finds it");
        assert!(!html.contains("unrelated words"), "q={q} finds only it");
    }
    // A word may still match the sender instead: bob's messages, by name.
    let html = shown("bob").await;
    assert!(html.contains("Crème brûlée recipe") && html.contains("hello bob"));
    assert!(!html.contains("unrelated words"));
    // Punctuation alone finds no message through the index.
    assert!(!shown("%3F%3F").await.contains("Crème brûlée recipe"));
}
