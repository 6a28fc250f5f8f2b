//! The admin console under attack: every console route with forged CSRF tokens, members
//! and visitors, odd ids, and injection strings in every field, search box and filter,
//! checked escaped on changelists, forms, delete pages, bulk confirmations and history.

use crate::common;

use common::hostile::*;
use common::*;
use rocket::http::{ContentType, Status};

const MODELS: &[&str] = &[
    "users",
    "chats",
    "messages",
    "files",
    "invites",
    "webhook_attempts",
    "log",
];

/// root (superuser, id 1), bob (member, id 2), a direct chat (id 1) with a message (id 1),
/// bob's upload to it (file 1), and one change in the log (id 1).
async fn seeded(app: &TestApp) -> (Person<'_>, Person<'_>) {
    let root = app.admin("root", "superuser").await;
    let bob = app.signup("bob").await;
    let chat = root.chat_with("bob").await;
    root.say(chat, "hello bob").await;
    bob.uploaded(chat, "notes.txt", b"some notes\n").await;
    let response = root
        .post_form(
            "/admin/chats/1/change/",
            &[("status", "open"), ("_save", "1")],
        )
        .await;
    assert_eq!(response.status(), Status::SeeOther);
    (root, bob)
}

/// The common fingerprint, and the files with their bytes.
async fn state(app: &TestApp) -> Vec<i64> {
    let mut seen = fingerprint(app).await;
    for sql in [
        "SELECT count(*) FROM files",
        "SELECT coalesce(sum(length(name)), 0) FROM files",
        "SELECT count(*) FROM file_chunks",
    ] {
        seen.push(app.count(sql).await);
    }
    seen
}

/// Every POST of the console, with fields that would change something if accepted.
fn posts() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    vec![
        (
            "/admin/users/",
            vec![("action", "deactivate"), ("_selected_action", "2")],
        ),
        (
            "/admin/users/",
            vec![
                ("action", "delete_selected"),
                ("_selected_action", "2"),
                ("post", "yes"),
            ],
        ),
        (
            "/admin/chats/",
            vec![
                ("action", "delete_selected"),
                ("_selected_action", "1"),
                ("post", "yes"),
            ],
        ),
        (
            "/admin/messages",
            vec![
                ("action", "delete_selected"),
                ("_selected_action", "1"),
                ("post", "yes"),
            ],
        ),
        (
            "/admin/users/add/",
            vec![
                ("username", "mallory"),
                ("role", "superuser"),
                ("is_active", "on"),
                ("password1", "new-okapi-lantern-7"),
                ("password2", "new-okapi-lantern-7"),
            ],
        ),
        (
            "/admin/users/2/change/",
            vec![
                ("username", "bob"),
                ("role", "superuser"),
                ("is_active", "on"),
            ],
        ),
        ("/admin/users/2/delete/", vec![("post", "yes")]),
        ("/admin/users/2/bot-key/", vec![]),
        ("/admin/users/2/avatar/", vec![("file", "forged")]),
        ("/admin/users/2/avatar/remove/", vec![]),
        (
            "/admin/users/2/password",
            vec![
                ("password1", "new-okapi-lantern-7"),
                ("password2", "new-okapi-lantern-7"),
            ],
        ),
        (
            "/admin/chats/add/",
            vec![
                ("kind", "group"),
                ("title", "x"),
                ("status", "open"),
                ("members-0-user", "bob"),
            ],
        ),
        (
            "/admin/chats/1/change/",
            vec![("status", "closed"), ("members-0-user", "bob")],
        ),
        ("/admin/chats/1/delete", vec![("post", "yes")]),
        (
            "/admin/messages/add/",
            vec![("chat_id", "1"), ("sender_id", "1"), ("body", "forged")],
        ),
        ("/admin/messages/1/change/", vec![("body", "forged")]),
        ("/admin/messages/1/delete/", vec![("post", "yes")]),
        ("/admin/files/1/change/", vec![("name", "forged.txt")]),
        ("/admin/files/1/delete/", vec![("post", "yes")]),
        (
            "/admin/files/",
            vec![
                ("action", "delete_selected"),
                ("_selected_action", "1"),
                ("post", "yes"),
            ],
        ),
        ("/admin/log/1/change/", vec![("change_message", "forged")]),
        ("/admin/users/2/bot-key/", vec![]),
        ("/admin/log/1/delete/", vec![("post", "yes")]),
        (
            "/admin/log/",
            vec![
                ("action", "delete_selected"),
                ("_selected_action", "1"),
                ("post", "yes"),
            ],
        ),
    ]
}

#[rocket::async_test]
async fn every_console_post_refuses_missing_and_wrong_csrf_tokens() {
    let app = TestApp::new().await;
    let (root, bob) = seeded(&app).await;
    let before = state(&app).await;
    let stale = "A".repeat(root.csrf.len());
    // An anonymous CSRF cookie planted in root's browser, and its token.
    let mallory = app.visitor("/login").await;
    let planted = mallory.cookie.clone().expect("an anonymous CSRF cookie");
    for (path, fields) in posts() {
        for token in [
            None,
            Some(""),
            Some("forged"),
            Some(&stale),
            Some(&bob.csrf),
        ] {
            let what = format!("root POST {path} with {token:?}");
            let response = root.post_form_token(path, token, &fields).await;
            inspect(&what, response)
                .await
                .expect(&what, Status::Forbidden);
        }
        // The API's header is not the form's field.
        let what = format!("root POST {path} with the token as a header only");
        let response = form_request(root.request(app.client.post(path)), None, &fields)
            .header(rocket::http::Header::new("X-CSRF-Token", root.csrf.clone()))
            .dispatch()
            .await;
        inspect(&what, response)
            .await
            .expect(&what, Status::Forbidden);
        let what = format!("root POST {path} with a planted anonymous token");
        let request = root.request(app.client.post(path)).cookie(planted.clone());
        let response = form_request(request, Some(&mallory.csrf), &fields)
            .dispatch()
            .await;
        inspect(&what, response)
            .await
            .expect(&what, Status::Forbidden);
    }
    assert_eq!(state(&app).await, before, "nothing changed");
}

#[rocket::async_test]
async fn members_and_visitors_get_nothing_from_any_console_route() {
    let app = TestApp::new().await;
    let (_, bob) = seeded(&app).await;
    let before = state(&app).await;
    let mut gets = vec!["/admin".to_owned(), "/admin/".to_owned()];
    for model in MODELS {
        // `/admin/<model>/<id>` only redirects to its change page, as Django's does.
        for page in ["", "add/", "1/change/", "1/delete/", "1/history/"] {
            gets.push(format!("/admin/{model}/{page}"));
        }
    }
    gets.push("/admin/users/2/password/".into());
    gets.push("/admin/users/2/bot-key/".into());
    gets.push("/admin/users/2/avatar/".into());
    gets.push("/admin/files/1/download/".into());
    for path in &gets {
        let what = format!("bob GET {path}");
        inspect(&what, bob.get(path).await)
            .await
            .expect(&what, Status::Forbidden);
        let what = format!("anonymous GET {path}");
        let response = app.client.get(path.as_str()).dispatch().await;
        let to = location(&response);
        inspect(&what, response)
            .await
            .expect(&what, Status::SeeOther);
        assert!(to.starts_with("/login?next="), "{what}: to {to}");
    }
    let visitor = app.visitor("/login").await;
    for (path, fields) in posts() {
        let what = format!("bob POST {path}");
        inspect(&what, bob.post_form(path, &fields).await)
            .await
            .expect(&what, Status::Forbidden);
        let what = format!("anonymous POST {path}");
        let seen = inspect(&what, visitor.post_form(path, &fields).await).await;
        assert!(
            [Status::SeeOther, Status::Forbidden].contains(&seen.status),
            "{what}: {}",
            seen.status
        );
    }
    assert_eq!(state(&app).await, before, "nothing changed");
}

#[rocket::async_test]
async fn odd_ids_and_unknown_models_in_console_urls_are_404() {
    let app = TestApp::new().await;
    let (root, _) = seeded(&app).await;
    let before = state(&app).await;
    for id in ODD_IDS.iter().chain(&["999999"]) {
        for model in MODELS {
            for page in ["change/", "delete/", "history/", ""] {
                let path = format!("/admin/{model}/{id}/{page}");
                let what = format!("root GET {path}");
                let response = root.get(&path).await;
                let to = header(&response, "Location");
                let seen = inspect(&what, response).await;
                // The bare object URL only redirects to its change page (a 404 there).
                let redirected = page.is_empty()
                    && seen.status == Status::SeeOther
                    && to.is_some_and(|to| to.ends_with("/change/"));
                // The log is view-only: deleting from it is forbidden before any look-up.
                let view_only =
                    *model == "log" && page == "delete/" && seen.status == Status::Forbidden;
                assert!(
                    seen.status == Status::NotFound || redirected || view_only,
                    "{what}: {}",
                    seen.status
                );
            }
            for (page, fields) in [
                ("change/", vec![("body", "x"), ("title", "x")]),
                ("delete/", vec![("post", "yes")]),
            ] {
                let path = format!("/admin/{model}/{id}/{page}");
                let what = format!("root POST {path}");
                let seen = inspect(&what, root.post_form(&path, &fields).await).await;
                assert!(
                    [Status::NotFound, Status::Forbidden].contains(&seen.status),
                    "{what}: {}",
                    seen.status
                );
            }
            // Bulk actions with ids that name nothing change nothing.
            for post in [None, Some("yes")] {
                let mut fields = vec![("action", "delete_selected"), ("_selected_action", *id)];
                if let Some(post) = post {
                    fields.push(("post", post));
                }
                let path = format!("/admin/{model}/");
                let what = format!("root POST {path} {fields:?}");
                inspect(&what, root.post_form(&path, &fields).await).await;
            }
        }
        let path = format!("/admin/files/{id}/download/");
        let what = format!("root GET {path}");
        inspect(&what, root.get(&path).await)
            .await
            .expect(&what, Status::NotFound);
        for path in [
            format!("/admin/users/{id}/bot-key/"),
            "/admin/users/2/bot-key/".into(),
        ] {
            // An odd id, and a user who is no bot, have no bot key page.
            for (what, response) in [
                (format!("root GET {path}"), root.get(&path).await),
                (
                    format!("root POST {path}"),
                    root.post_form(&path, &[]).await,
                ),
            ] {
                inspect(&what, response)
                    .await
                    .expect(&what, Status::NotFound);
            }
        }
        let path = format!("/admin/users/{id}/password/");
        let what = format!("root GET {path}");
        inspect(&what, root.get(&path).await)
            .await
            .expect(&what, Status::NotFound);
        let what = format!("root POST {path}");
        let fields = [
            ("password1", "new-okapi-lantern-7"),
            ("password2", "new-okapi-lantern-7"),
        ];
        inspect(&what, root.post_form(&path, &fields).await)
            .await
            .expect(&what, Status::NotFound);
    }
    for slug in [
        "nope",
        "sessions",
        "admin_log",
        "users%00",
        "%3Cscript%3E",
        "..",
        "USERS",
    ] {
        for page in ["", "add/", "1/change/", "1/delete/", "1/history/"] {
            let path = format!("/admin/{slug}/{page}");
            let what = format!("root GET {path}");
            let seen = inspect(&what, root.get(&path).await).await;
            assert_eq!(seen.status, Status::NotFound, "{what}");
            assert!(!seen.body.contains("<script>"), "{what}");
        }
    }
    assert_eq!(state(&app).await, before, "nothing changed");
}

#[rocket::async_test]
async fn typed_injections_are_shown_escaped_on_every_console_page() {
    let app = TestApp::new().await;
    let (root, _) = seeded(&app).await;
    for (i, typed) in INJECTIONS.iter().enumerate() {
        // A user whose email carries the payload (emails allow most characters).
        let name = format!("eve{i}");
        let email = format!("{}@example.com", typed.replace(' ', ""));
        let response = root
            .post_form(
                "/admin/users/add/",
                &[
                    ("username", &name),
                    ("email", &email),
                    ("role", "member"),
                    ("is_active", "on"),
                    ("password1", "new-okapi-lantern-7"),
                    ("password2", "new-okapi-lantern-7"),
                    ("_save", "1"),
                ],
            )
            .await;
        let what = format!("root POST /admin/users/add/ email {email:?}");
        inspect(&what, response)
            .await
            .expect(&what, Status::SeeOther);
        let user = app
            .count(&format!("SELECT id FROM users WHERE username = '{name}'"))
            .await;
        // A username that is the payload itself: refused, and the form keeps it escaped.
        let what = format!("root POST /admin/users/add/ username {typed:?}");
        let seen = inspect(
            &what,
            root.post_form(
                "/admin/users/add/",
                &[
                    ("username", typed),
                    ("email", typed),
                    ("role", typed),
                    ("password1", typed),
                    ("password2", typed),
                ],
            )
            .await,
        )
        .await;
        seen.shows_escaped(&what, typed);

        // A group titled with it and a message saying it, through the console.
        let response = root
            .post_form(
                "/admin/chats/add/",
                &[
                    ("kind", "group"),
                    ("title", typed),
                    ("status", "open"),
                    ("members-0-user", "bob"),
                    ("members-1-user", "root"),
                    ("_save", "1"),
                ],
            )
            .await;
        let what = format!("root POST /admin/chats/add/ title {typed:?}");
        inspect(&what, response)
            .await
            .expect(&what, Status::SeeOther);
        let chat = app.count("SELECT max(id) FROM chats").await;
        let chat_s = chat.to_string();
        let response = root
            .post_form(
                "/admin/messages/add/",
                &[
                    ("chat_id", &chat_s),
                    ("sender_id", "1"),
                    ("body", typed),
                    ("_save", "1"),
                ],
            )
            .await;
        let what = format!("root POST /admin/messages/add/ body {typed:?}");
        inspect(&what, response)
            .await
            .expect(&what, Status::SeeOther);
        let message = app.count("SELECT max(id) FROM messages").await;
        // A file named with it (made safe for a file system, so perhaps cut at a slash;
        // a quote goes as browsers send it in a part's header, as `%22`).
        let upload = root
            .uploaded(chat, &typed.replace('"', "%22"), b"payload\n")
            .await;
        let file = upload["id"].as_i64().expect("a file id");
        let stored = upload["name"].as_str().expect("a name").to_owned();
        // A change, so the history has an entry naming it.
        root.post_form(
            &format!("/admin/chats/{chat}/change/"),
            &[
                ("title", typed),
                ("status", "closed"),
                ("members-0-user", "bob"),
                ("members-1-user", "root"),
            ],
        )
        .await;

        let q = rocket::http::RawStr::new(typed)
            .percent_encode()
            .to_string();
        let shown = [
            format!(
                "/admin/users/?q={}",
                rocket::http::RawStr::new(&email).percent_encode()
            ),
            "/admin/users/".into(),
            format!("/admin/users/{user}/change/"),
            format!("/admin/users/{user}/delete/"),
            format!("/admin/users/{user}/history/"),
            format!("/admin/chats/?q={q}"),
            format!("/admin/chats/{chat}/change/"),
            format!("/admin/chats/{chat}/delete/"),
            format!("/admin/chats/{chat}/history/"),
            format!("/admin/messages/?q={q}"),
            format!("/admin/messages/{message}/change/"),
            format!("/admin/messages/{message}/delete/"),
            "/admin/log/".into(),
            "/admin/".into(),
        ];
        for path in &shown {
            let what = format!("root GET {path}");
            let seen = inspect(&what, root.get(path).await)
                .await
                .expect(&what, Status::Ok);
            let text = if path.starts_with("/admin/users") {
                email.as_str()
            } else {
                typed
            };
            if path.contains("/history/")
                || path.contains("/delete/")
                || path == "/admin/"
                || path.contains("/users/?")
            {
                assert_never_raw(&what, &seen.body, text);
            } else {
                seen.shows_escaped(&what, text);
            }
        }
        let file_pages = [
            format!("/admin/files/?q={q}"),
            "/admin/files/".into(),
            format!("/admin/files/{file}/change/"),
            format!("/admin/files/{file}/delete/"),
            format!("/admin/files/{file}/history/"),
        ];
        for path in &file_pages {
            let what = format!("root GET {path}");
            let seen = inspect(&what, root.get(path).await)
                .await
                .expect(&what, Status::Ok);
            assert_never_raw(&what, &seen.body, typed);
            if path.contains("?q=") {
                seen.shows_escaped(&what, typed);
            } else {
                assert!(unescape(&seen.body).contains(&stored), "{what}: {stored:?}");
            }
        }
        // The bulk delete confirmation lists the chosen objects.
        for (model, id) in [
            ("chats", chat),
            ("messages", message),
            ("users", user),
            ("files", file),
        ] {
            let id = id.to_string();
            let path = format!("/admin/{model}/");
            let what = format!("root POST {path} delete_selected {id} (confirm page)");
            let seen = inspect(
                &what,
                root.post_form(
                    &path,
                    &[("action", "delete_selected"), ("_selected_action", &id)],
                )
                .await,
            )
            .await
            .expect(&what, Status::Ok);
            assert_never_raw(&what, &seen.body, typed);
            assert_never_raw(&what, &seen.body, &email);
        }
        // Every search box, filter, ordering and page parameter, on every changelist, with
        // the markup and template payloads (the SQL ones are covered by the searches above
        // and by `admin.rs::hostile_list_parameters_change_nothing_and_break_nothing`).
        let markup = typed.contains(['<', '{']);
        for model in MODELS.iter().filter(|_| markup) {
            for param in [
                "q",
                "o",
                "p",
                "per_page",
                "role",
                "is_active",
                "active",
                "kind",
                "status",
                "chat",
                "chat_id",
                "type",
                "sender",
                "sender_id",
                "outcome",
                "bot",
                "bot_id",
                "date",
                "created_at",
                "action_time",
                "user",
                typed,
            ] {
                let name = rocket::http::RawStr::new(param)
                    .percent_encode()
                    .to_string();
                let path = format!("/admin/{model}/?{name}={q}");
                let what = format!("root GET {path}");
                let seen = inspect(&what, root.get(&path).await)
                    .await
                    .expect(&what, Status::Ok);
                assert_never_raw(&what, &seen.body, typed);
                if param == "q" && model != &"log" {
                    seen.shows_escaped(&what, typed);
                }
            }
        }
    }
    // The tables are still there, and the payloads are data in them.
    assert!(app.count("SELECT count(*) FROM users").await >= 2 + INJECTIONS.len() as i64);
    assert_eq!(
        app.count("SELECT count(*) FROM chats WHERE kind = 'group'")
            .await,
        INJECTIONS.len() as i64
    );
}

#[rocket::async_test]
async fn oversized_and_wrongly_typed_console_posts_change_nothing() {
    let app = TestApp::new().await;
    let (root, _) = seeded(&app).await;
    let before = state(&app).await;
    let big = "x".repeat(65 * 1024);
    for (path, fields) in posts() {
        let mut fields = fields.clone();
        fields.push(("pad", &big));
        let what = format!("root POST {path} of 65 KiB");
        inspect(&what, root.post_form(path, &fields).await)
            .await
            .expect(&what, Status::PayloadTooLarge);
        for (content_type, body) in [
            (ContentType::JSON, "{\"post\": \"yes\"}".to_owned()),
            (ContentType::Plain, "post=yes".to_owned()),
            (ContentType::Form, "%%%=&&==%ZZ".to_owned()),
            (
                ContentType::Form,
                format!("csrf_token={}&post=yes&post=no&_selected_action=", "x"),
            ),
        ] {
            let what = format!("root POST {path} as {content_type} {body:.40}");
            let response = root
                .request(app.client.post(path))
                .header(content_type)
                .body(body)
                .dispatch()
                .await;
            let seen = inspect(&what, response).await;
            assert!(seen.status.code >= 400, "{what}: {}", seen.status);
        }
    }
    assert_eq!(state(&app).await, before, "nothing changed");
}

/// Staff could make the changelist answer 500: `o` with 3,000 terms ("too many terms in
/// ORDER BY"), `q` with 3,000 words ("Expression tree is too large") or one word past
/// SQLite's LIKE pattern limit. Each is capped: the page answers, searching and sorting.
#[rocket::async_test]
async fn huge_search_and_ordering_parameters_get_a_page_not_a_5xx() {
    let app = TestApp::new().await;
    let (root, _) = seeded(&app).await;
    let words: Vec<String> = (0..3000).map(|n| format!("w{n}")).collect();
    let q = words.join("+");
    for (model, columns) in [
        ("users", "username,-email"),
        ("chats", "id,-title"),
        ("messages", "id,-body"),
        ("files", "name,-size"),
        ("log", "action_time,-user"),
    ] {
        let o = vec![columns; 1500].join(",");
        for query in [
            format!("o={o}"),
            format!("q={q}"),
            format!("q=hello+{}", "x".repeat(60_000)),
            format!("q={q}&o={o}"),
        ] {
            let what = format!("GET /admin/{model}/?{query:.60}");
            inspect(&what, root.get(&format!("/admin/{model}/?{query}")).await)
                .await
                .expect(&what, Status::Ok);
        }
    }
    // Still a search: the first words count.
    let html = root.page("/admin/users/?q=bob+w1+w2", Status::Ok).await;
    let results = |html: &str, n: &str| html.contains(&format!("{n}</span> result"));
    assert!(results(&html, "0"), "{html}");
    let many = format!("/admin/users/?q=bob+{q}");
    let html = root.page(&many, Status::Ok).await;
    assert!(results(&html, "0"), "every word must match");
    let html = root.page("/admin/users/?q=bob", Status::Ok).await;
    assert!(results(&html, "1"), "{html}");
}
