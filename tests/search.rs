//! Search (`GET /api/search`) and history around a message: what a person finds is only
//! ever from their own chats, follows edits and deletions at once, folds case and accents,
//! and nothing they type is read as query syntax.

use crate::common;

use std::collections::HashSet;

use common::{expect_error, expect_invalid, Person, TestApp};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rocket::http::{RawStr, Status};
use serde_json::{json, Value};

/// `q` (and any further query) as the search answers it, asserting 200.
async fn search(person: &Person<'_>, query: &str) -> Value {
    person
        .get_json(&format!("/api/search?q={query}"), Status::Ok)
        .await
}

/// The bodies of the results, newest first.
fn bodies(found: &Value) -> Vec<String> {
    results(found)
        .iter()
        .map(|r| r["message"]["body"].as_str().expect("a body").to_owned())
        .collect()
}

fn results(found: &Value) -> &Vec<Value> {
    found["results"].as_array().expect("a list of results")
}

fn ids(found: &Value) -> Vec<i64> {
    results(found)
        .iter()
        .map(|r| r["message"]["id"].as_i64().expect("an id"))
        .collect()
}

/// The words the server marked in a result.
fn marked(result: &Value) -> Vec<String> {
    result["parts"]
        .as_array()
        .expect("parts")
        .iter()
        .filter(|p| p["match"] == true)
        .map(|p| p["text"].as_str().expect("text").to_owned())
        .collect()
}

fn encoded(text: &str) -> String {
    RawStr::new(text).percent_encode().to_string()
}

#[rocket::async_test]
async fn people_find_messages_of_their_own_chats_only() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let carol = app.signup("carol").await;
    let with_bob = alice.chat_with("bob").await;
    let bob_and_carol = bob.chat_with("carol").await;
    let group = alice.group("Planning", &["carol"]).await;
    alice.say(with_bob, "the budget is ready").await;
    bob.say(bob_and_carol, "a secret budget for carol").await;
    carol.say(group, "budget review on Monday").await;

    let found = search(&alice, "budget").await;
    assert_eq!(
        bodies(&found),
        ["budget review on Monday", "the budget is ready"],
        "newest first, and never bob and carol's direct chat"
    );
    assert_eq!(found["next"], Value::Null);
    let first = &results(&found)[0];
    assert_eq!(common::keys(first), ["chat", "message", "parts"]);
    assert_eq!(
        first["chat"],
        json!({"id": group, "kind": "group", "title": "Planning", "members": ["alice", "carol"]})
    );
    assert_eq!(first["message"]["sender"], "carol");
    assert_eq!(first["message"]["chat_id"], group);
    assert_eq!(marked(first), ["budget"]);
    let text: String = first["parts"]
        .as_array()
        .expect("parts")
        .iter()
        .map(|p| p["text"].as_str().expect("text"))
        .collect();
    assert_eq!(
        text, "budget review on Monday",
        "the parts make up the body"
    );
    let direct = &results(&found)[1]["chat"];
    assert_eq!(direct["kind"], "direct");
    assert_eq!(direct["title"], Value::Null);
    assert_eq!(direct["members"], json!(["alice", "bob"]));

    // Someone who leaves a chat no longer finds its messages.
    let left = alice
        .send(
            "DELETE",
            &format!("/api/chats/{group}/members/alice"),
            json!({}),
        )
        .await;
    assert_eq!(left.status(), Status::NoContent);
    assert_eq!(
        bodies(&search(&alice, "budget").await),
        ["the budget is ready"]
    );
    assert_eq!(
        bodies(&search(&carol, "budget").await),
        ["budget review on Monday", "a secret budget for carol"]
    );

    // A chat of other people, one that does not exist, and nonsense all look alike.
    for chat in [bob_and_carol.to_string(), "999999".into(), "abc".into()] {
        let response = alice
            .get(&format!("/api/search?q=budget&chat_id={chat}"))
            .await;
        expect_error(response, Status::NotFound, "not_found").await;
    }
    let anonymous = app.anonymous("GET", "/api/search?q=budget").await;
    assert_eq!(anonymous.status(), Status::Unauthorized);
}

#[rocket::async_test]
async fn edits_and_deletions_reach_the_search_at_once() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    let message = alice.say(chat, "apple pie on Friday").await;
    let path = format!("/api/chats/{chat}/messages/{}", message["id"]);
    assert_eq!(
        bodies(&search(&alice, "apple").await),
        ["apple pie on Friday"]
    );

    let edited = alice
        .patch(&path, json!({"body": "banana split on Friday"}))
        .await;
    assert_eq!(edited.status(), Status::Ok);
    assert!(
        bodies(&search(&alice, "apple").await).is_empty(),
        "the old words are gone"
    );
    let found = search(&alice, "banana").await;
    assert_eq!(bodies(&found), ["banana split on Friday"]);
    assert!(!results(&found)[0]["message"]["edited_at"].is_null());

    let deleted = alice.send("DELETE", &path, json!({})).await;
    assert_eq!(deleted.status(), Status::NoContent);
    assert!(bodies(&search(&alice, "banana").await).is_empty());
    assert!(bodies(&search(&alice, "Friday").await).is_empty());
    if !app.is_postgres() {
        // The external-content index agrees with the table, row for row.
        app.sql(
            "INSERT INTO messages_search (messages_search, rank) VALUES ('integrity-check', 1)",
        )
        .await;
    }
}

#[rocket::async_test]
async fn messages_removed_with_their_chat_leave_the_index() {
    let app = TestApp::new().await;
    let root = app.admin("root", "superuser").await;
    app.signup("bob").await;
    let chat = root.chat_with("bob").await;
    root.say(chat, "quarterly numbers").await;
    let gone = root
        .post_form(&format!("/admin/chats/{chat}/delete/"), &[("post", "yes")])
        .await;
    assert_eq!(gone.status(), Status::SeeOther);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 0);
    assert!(bodies(&search(&root, "quarterly").await).is_empty());
    if !app.is_postgres() {
        app.sql(
            "INSERT INTO messages_search (messages_search, rank) VALUES ('integrity-check', 1)",
        )
        .await;
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM messages_search WHERE messages_search MATCH 'quarterly'"
            )
            .await,
            0
        );
    }
}

#[rocket::async_test]
async fn case_and_accents_are_folded() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    alice
        .say(chat, "Crème brûlée at the CAFÉ, naïve élève")
        .await;
    for typed in [
        "creme brulee",
        "CREME",
        "café",
        "cafe",
        "Naive",
        "ELEVE",
        "brû",
    ] {
        let found = search(&alice, &encoded(typed)).await;
        assert_eq!(bodies(&found).len(), 1, "{typed} finds it");
    }
    let found = search(&alice, "creme+cafe").await;
    assert_eq!(marked(&results(&found)[0]), ["Crème", "CAFÉ"]);
}

#[rocket::async_test]
async fn words_all_match_the_last_as_a_prefix_and_quotes_make_a_phrase() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    alice.say(chat, "the quick brown fox").await;
    alice.say(chat, "brown bread, quickly").await;
    alice.say(chat, "nothing to see").await;

    let find = |q: &'static str| {
        let alice = &alice;
        async move { bodies(&search(alice, &encoded(q)).await) }
    };
    assert_eq!(find("quick brown").await, ["the quick brown fox"]);
    assert_eq!(
        find("brown quick").await,
        ["brown bread, quickly", "the quick brown fox"]
    );
    assert_eq!(
        find("bro").await,
        ["brown bread, quickly", "the quick brown fox"]
    );
    assert_eq!(find("fo").await, ["the quick brown fox"]);
    assert_eq!(find("\"quick brown\"").await, ["the quick brown fox"]);
    assert!(
        find("\"brown quick\"").await.is_empty(),
        "a phrase keeps its order"
    );
    assert!(
        find("\"quick bro\"").await.is_empty(),
        "a closed phrase is not a prefix"
    );
    assert_eq!(
        find("\"quick bro").await,
        ["the quick brown fox"],
        "one still typed is"
    );
    assert!(
        find("quick brown zebra").await.is_empty(),
        "every word must match"
    );

    let found = search(&alice, "qui").await;
    assert_eq!(marked(&results(&found)[0]), ["quickly"]);
    assert_eq!(marked(&results(&found)[1]), ["quick"]);
}

#[rocket::async_test]
async fn pages_follow_each_other_without_gaps_or_repeats() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    let group = alice.group("Team", &["bob"]).await;
    let mut sent = Vec::new();
    for n in 0..45 {
        let chat = if n % 3 == 0 { group } else { chat };
        sent.push(alice.say(chat, &format!("status report {n}")).await["id"].as_i64());
        alice.say(chat, "unrelated").await;
    }
    let mut seen = Vec::new();
    let mut query = "status&limit=10".to_owned();
    loop {
        let found = search(&alice, &query).await;
        assert!(results(&found).len() <= 10);
        seen.extend(ids(&found));
        match found["next"].as_i64() {
            Some(next) => query = format!("status&limit=10&before={next}"),
            None => break,
        }
    }
    let mut expected: Vec<i64> = sent.into_iter().flatten().collect();
    expected.reverse();
    assert_eq!(seen, expected, "every match once, newest first");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 45);

    // Limits are kept within 1-50; the default is 20.
    assert_eq!(results(&search(&alice, "status").await).len(), 20);
    assert_eq!(
        results(&search(&alice, "status&limit=1000").await).len(),
        45
    );
    assert_eq!(results(&search(&alice, "status&limit=0").await).len(), 1);
    let more: Vec<String> = (0..10).map(|n| format!("status again {n}")).collect();
    for body in &more {
        alice.say(chat, body).await;
    }
    assert_eq!(
        results(&search(&alice, "status&limit=1000").await).len(),
        50
    );
}

#[rocket::async_test]
async fn filters_narrow_to_one_chat_and_one_sender() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    let group = alice.group("Team", &["bob"]).await;
    alice.say(chat, "deploy from alice").await;
    bob.say(chat, "deploy from bob").await;
    bob.say(group, "deploy in the group").await;

    let in_chat = search(&alice, &format!("deploy&chat_id={chat}")).await;
    assert_eq!(bodies(&in_chat), ["deploy from bob", "deploy from alice"]);
    let from_bob = search(&alice, "deploy&from=BOB").await;
    assert_eq!(
        bodies(&from_bob),
        ["deploy in the group", "deploy from bob"]
    );
    let both = search(&alice, &format!("deploy&from=bob&chat_id={chat}")).await;
    assert_eq!(bodies(&both), ["deploy from bob"]);
    let nobody = alice.get("/api/search?q=deploy&from=nobody").await;
    expect_invalid(nobody, "from").await;
}

#[rocket::async_test]
async fn nothing_to_search_for_is_a_422_on_q_and_bad_numbers_a_400() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    let too_long = "a".repeat(201);
    for q in [
        "",
        "%20%20",
        "%3F%21",
        "%22%22",
        "*",
        "%F0%9F%8E%89",
        too_long.as_str(),
    ] {
        let response = alice.get(&format!("/api/search?q={q}")).await;
        expect_invalid(response, "q").await;
    }
    let missing = alice.get("/api/search").await;
    expect_invalid(missing, "q").await;
    for query in ["before=abc", "before=-1", "limit=many"] {
        let response = alice.get(&format!("/api/search?q=x&{query}")).await;
        expect_error(response, Status::BadRequest, "bad_request").await;
    }
}

#[rocket::async_test]
async fn query_syntax_is_searched_as_text() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    alice
        .say(
            chat,
            "C++ AND (rust) NEAR:x - \"quoted\" *star* body:col ^caret donʼt",
        )
        .await;
    alice.say(chat, "plain words").await;
    for typed in [
        "AND",
        "NEAR",
        "NEAR(x)",
        "rust AND",
        "(rust)",
        "-rust",
        "body:col",
        "^caret",
        "\"quoted",
        "*star*",
        "star*",
        "C++",
        "x OR plain",
        "NOT plain",
        // unaccent turns "ʼ" into a quote on PostgreSQL.
        "donʼt",
    ] {
        let response = alice
            .get(&format!("/api/search?q={}", encoded(typed)))
            .await;
        let status = response.status();
        let found: Value = response.into_json().await.expect("JSON");
        assert_eq!(status, Status::Ok, "{typed}: {found}");
        if typed != "x OR plain" && typed != "NOT plain" {
            assert_eq!(
                bodies(&found).len(),
                1,
                "{typed} is searched as the words it has"
            );
        } else {
            assert!(
                bodies(&found).is_empty(),
                "{typed}: OR and NOT are words too"
            );
        }
    }
}

/// Anything typed, FTS5 and tsquery syntax above all: 200 or 422, never a 5xx.
#[test]
fn random_queries_never_get_a_5xx() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let app = rt.block_on(TestApp::new());
    let alice = rt.block_on(async {
        let alice = app.signup("alice").await;
        app.signup("bob").await;
        let chat = alice.chat_with("bob").await;
        alice
            .say(chat, "a message with some words: NEAR AND OR")
            .await;
        alice
    });
    let typed = prop_oneof![
        // With letters that unaccent turns into quotes and colons (ʼ ŉ ʹ ː).
        3 => "[\"*()^:+\\-'&|!<>{}\\[\\]~ ,.a-zA-Z0-9éßʼŉʹːˆ]{0,40}",
        1 => prop::collection::vec(
            prop::sample::select(vec![
                "NEAR", "AND", "OR", "NOT", "\"", "*", "(", ")", "-", ":", "^", "'", "&",
                "|", "!", "<->", ":*", "body", "a", "é", " ", "\\", "%", "_",
            ]),
            0..12,
        )
        .prop_map(|parts| parts.concat()),
        1 => any::<String>(),
    ];
    let config = Config {
        cases: 128,
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new(config)
        .run(&typed, |q| {
            rt.block_on(async {
                let path = format!("/api/search?q={}", encoded(&q));
                let response = alice.get(&path).await;
                let status = response.status();
                prop_assert!(
                    status == Status::Ok || status == Status::UnprocessableEntity,
                    "{q:?}: {status}"
                );
                Ok::<(), TestCaseError>(())
            })
        })
        .expect("no query gets a 5xx");
}

#[rocket::async_test]
async fn history_around_a_message_centres_on_it() {
    let app = TestApp::new().await;
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    let chat = alice.chat_with("bob").await;
    let mut sent = Vec::new();
    for n in 0..30 {
        sent.push(
            alice.say(chat, &format!("message {n}")).await["id"]
                .as_i64()
                .expect("id"),
        );
    }
    let around = |mid: i64, limit: u32| {
        let alice = &alice;
        async move {
            let page = alice
                .history(chat, &format!("around={mid}&limit={limit}"))
                .await;
            let ids: Vec<i64> = page["messages"]
                .as_array()
                .expect("messages")
                .iter()
                .map(|m| m["id"].as_i64().expect("id"))
                .collect();
            (ids, page["cursor"].as_i64())
        }
    };
    let (ids, cursor) = around(sent[15], 10).await;
    assert_eq!(ids, sent[10..20], "five before, the message and four after");
    assert_eq!(cursor, Some(sent[19]));
    let (ids, _) = around(sent[29], 10).await;
    assert_eq!(
        ids,
        sent[20..30],
        "near the end the window reaches further back"
    );
    let (ids, _) = around(sent[1], 10).await;
    assert_eq!(ids, sent[0..6], "near the start it is shorter");

    // Another chat's message, a deleted one, nonsense, and a mix with paging.
    let other = alice.group("Team", &["bob"]).await;
    let elsewhere = alice.say(other, "elsewhere").await["id"]
        .as_i64()
        .expect("id");
    let response = alice
        .get(&format!("/api/chats/{chat}/messages?around={elsewhere}"))
        .await;
    expect_error(response, Status::NotFound, "not_found").await;
    let deleted = alice
        .send(
            "DELETE",
            &format!("/api/chats/{chat}/messages/{}", sent[3]),
            json!({}),
        )
        .await;
    assert_eq!(deleted.status(), Status::NoContent);
    let response = alice
        .get(&format!("/api/chats/{chat}/messages?around={}", sent[3]))
        .await;
    expect_error(response, Status::NotFound, "not_found").await;
    for query in [
        "around=x",
        &format!("around={}&before={}", sent[5], sent[9]),
    ] {
        let response = alice
            .get(&format!("/api/chats/{chat}/messages?{query}"))
            .await;
        expect_error(response, Status::BadRequest, "bad_request").await;
    }
}

#[rocket::async_test]
async fn the_index_is_built_for_messages_sent_before_it_existed() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    {
        let app = TestApp::over(dir.path()).await;
        let alice = app.signup("alice").await;
        app.signup("bob").await;
        let chat = alice.chat_with("bob").await;
        alice.say(chat, "written before search").await;
        // The database as it was before the search migration.
        let (undo, version) = if app.is_postgres() {
            (
                "ALTER TABLE messages DROP COLUMN search_words;
                 DROP FUNCTION kanect_search_words(text);
                 DROP FUNCTION kanect_search_query(json);
                 DROP FUNCTION kanect_search_term(text)",
                "3, 4",
            )
        } else {
            (
                "DROP TABLE messages_search; DROP TRIGGER messages_search_insert;
                 DROP TRIGGER messages_search_update; DROP TRIGGER messages_search_delete",
                "7",
            )
        };
        app.sql(undo).await;
        app.sql(&format!(
            "DELETE FROM _sqlx_migrations WHERE version IN ({version})"
        ))
        .await;
    }
    let app = TestApp::over(dir.path()).await;
    let alice = app.login("alice", common::PASSWORD).await;
    assert_eq!(
        bodies(&search(&alice, "before").await),
        ["written before search"]
    );
}
