//! Test helpers: a fresh app over its own temporary database, and people who sign up and
//! act through it with their own cookies and CSRF tokens.
#![allow(dead_code)]

use std::path::PathBuf;

use kanect::config::Config;
use rocket::http::{ContentType, Cookie, Header, Status};
use rocket::local::asynchronous::{Client, LocalRequest, LocalResponse};
use serde_json::Value;
use tempfile::TempDir;

pub const PASSWORD: &str = "purple-walrus-sings-42";

pub struct TestApp {
    pub client: Client,
    pub dir: TempDir,
}

impl TestApp {
    pub async fn new() -> TestApp {
        TestApp::with(|_| {}).await
    }

    /// An app whose configuration `adjust` may change first.
    pub async fn with(adjust: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut config = Config {
            data_dir: dir.path().to_path_buf(),
            secret_key: Some(kanect::auth::token::new_secret_key()),
            poll_wait_max_s: 5,
            ..Config::default()
        };
        adjust(&mut config);
        let client = Client::untracked(kanect::app(&config))
            .await
            .expect("the app starts");
        TestApp { client, dir }
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("kanect.db")
    }

    /// Runs SQL directly against the app's database (for states the API cannot reach yet).
    pub async fn sql(&self, sql: &str) {
        use sqlx::ConnectOptions;
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(self.db_path())
            .connect()
            .await
            .expect("open the test database");
        sqlx::query(sql).execute(&mut conn).await.expect("run SQL");
    }

    /// A visitor who is not signed in, holding the anonymous CSRF cookie of a form page.
    pub async fn visitor(&self, page: &str) -> Visitor<'_> {
        let response = self.client.get(page).dispatch().await;
        let cookie = response
            .cookies()
            .get("kanect_csrf")
            .map(|c| c.clone().into_owned());
        let html = response.into_string().await.unwrap_or_default();
        Visitor {
            app: self,
            csrf: csrf_in(&html).unwrap_or_default(),
            cookie,
        }
    }

    /// Signs `name` up through the sign-up form and returns them signed in.
    pub async fn signup(&self, name: &str) -> Person<'_> {
        let visitor = self.visitor("/signup").await;
        let response = visitor
            .post_form(
                "/signup",
                &[
                    ("username", name),
                    ("email", &format!("{name}@example.com")),
                    ("password1", PASSWORD),
                    ("password2", PASSWORD),
                ],
            )
            .await;
        assert_eq!(response.status(), Status::SeeOther, "sign-up of {name} succeeds");
        self.person_from(response, name).await
    }

    /// Signs in through the form.
    pub async fn login(&self, name: &str, password: &str) -> Person<'_> {
        let visitor = self.visitor("/login").await;
        let response = visitor
            .post_form("/login", &[("username", name), ("password", password)])
            .await;
        assert_eq!(response.status(), Status::SeeOther, "sign-in of {name} succeeds");
        self.person_from(response, name).await
    }

    async fn person_from(&self, response: LocalResponse<'_>, name: &str) -> Person<'_> {
        let cookie = response
            .cookies()
            .get("kanect_session")
            .expect("a session cookie")
            .clone()
            .into_owned();
        let mut person = Person {
            app: self,
            name: name.to_owned(),
            id: 0,
            cookie,
            csrf: String::new(),
        };
        let home = person.get("/").await;
        assert_eq!(home.status(), Status::Ok);
        person.csrf = csrf_in(&home.into_string().await.unwrap_or_default()).expect("csrf meta");
        let me: Value = person.get("/api/me").await.into_json().await.expect("me");
        person.id = me["id"].as_i64().expect("id");
        person
    }
}

/// The token in a page's `<meta name="csrf-token">`.
pub fn csrf_in(html: &str) -> Option<String> {
    let start = html.find("name=\"csrf-token\" content=\"")? + 27;
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

pub struct Visitor<'a> {
    pub app: &'a TestApp,
    pub csrf: String,
    pub cookie: Option<Cookie<'static>>,
}

impl<'a> Visitor<'a> {
    /// Posts a form with this visitor's CSRF token and cookie.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> LocalResponse<'a> {
        let mut all = vec![("csrf_token", self.csrf.as_str())];
        all.extend_from_slice(fields);
        let mut request = self
            .app
            .client
            .post(path.to_owned())
            .header(ContentType::Form)
            .body(form_body(&all));
        if let Some(cookie) = &self.cookie {
            request = request.cookie(cookie.clone());
        }
        request.dispatch().await
    }
}

pub fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                rocket::http::RawStr::new(k).percent_encode(),
                rocket::http::RawStr::new(v).percent_encode()
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A signed-in person.
pub struct Person<'a> {
    pub app: &'a TestApp,
    pub name: String,
    pub id: i64,
    pub cookie: Cookie<'static>,
    pub csrf: String,
}

impl<'a> Person<'a> {
    pub fn request(&self, request: LocalRequest<'a>) -> LocalRequest<'a> {
        request.cookie(self.cookie.clone())
    }

    pub async fn get(&self, path: &str) -> LocalResponse<'a> {
        self.request(self.app.client.get(path.to_owned()))
            .dispatch()
            .await
    }

    /// GET returning JSON, asserting the status.
    pub async fn get_json(&self, path: &str, status: Status) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), status, "GET {path}");
        response.into_json().await.expect("JSON body")
    }

    /// An unsafe JSON call with the CSRF header.
    pub async fn send(&self, method: &str, path: &str, body: Value) -> LocalResponse<'a> {
        let client = &self.app.client;
        let request = match method {
            "POST" => client.post(path.to_owned()),
            "PATCH" => client.patch(path.to_owned()),
            "PUT" => client.put(path.to_owned()),
            "DELETE" => client.delete(path.to_owned()),
            other => panic!("unexpected method {other}"),
        };
        self.request(request)
            .header(ContentType::JSON)
            .header(Header::new("X-CSRF-Token", self.csrf.clone()))
            .body(body.to_string())
            .dispatch()
            .await
    }

    pub async fn post(&self, path: &str, body: Value) -> LocalResponse<'a> {
        self.send("POST", path, body).await
    }

    /// POST returning JSON, asserting the status.
    pub async fn post_json(&self, path: &str, body: Value, status: Status) -> Value {
        let response = self.post(path, body).await;
        assert_eq!(response.status(), status, "POST {path}");
        response.into_json().await.expect("JSON body")
    }

    /// Posts a form with this person's session and CSRF token.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> LocalResponse<'a> {
        let mut all = vec![("csrf_token", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.request(self.app.client.post(path.to_owned()))
            .header(ContentType::Form)
            .body(form_body(&all))
            .dispatch()
            .await
    }

    /// Opens (or finds) the direct chat with `other` and returns its id.
    pub async fn chat_with(&self, other: &str) -> i64 {
        let response = self.post("/api/chats", serde_json::json!({ "with": other })).await;
        assert!(response.status() == Status::Created || response.status() == Status::Ok);
        let chat: Value = response.into_json().await.expect("chat");
        chat["id"].as_i64().expect("chat id")
    }

    /// Sends a message and returns it as stored.
    pub async fn say(&self, chat: i64, body: &str) -> Value {
        self.post_json(
            &format!("/api/chats/{chat}/messages"),
            serde_json::json!({ "body": body }),
            Status::Created,
        )
        .await
    }
}

/// The `error.code` of a JSON error answer, checking its shape on the way.
pub async fn error_code(response: LocalResponse<'_>) -> String {
    let body: Value = response.into_json().await.expect("a JSON error body");
    assert!(body["error"]["message"].is_string(), "error has a message: {body}");
    body["error"]["code"].as_str().expect("error has a code").to_owned()
}
