//! Test helpers: a fresh app over its own temporary database, and people who sign up and
//! act through it with their own cookies and CSRF tokens.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use kanect::config::Config;
use rocket::http::{ContentType, Cookie, Header, Status};
use rocket::local::asynchronous::{Client, LocalRequest, LocalResponse};
use serde_json::Value;
use tempfile::TempDir;

pub mod endpoint;
pub mod images;
pub mod postgres;

pub const PASSWORD: &str = "purple-walrus-sings-42";

pub struct TestApp {
    pub client: Client,
    pub dir: TempDir,
    /// Where the app keeps its database: `dir` unless the configuration said otherwise.
    pub data_dir: PathBuf,
    /// The app's database: its SQLite file, or a PostgreSQL database of its own.
    pub database_url: String,
    /// Dropped last: the PostgreSQL database goes once the app has.
    postgres: Option<postgres::Database>,
}

impl TestApp {
    pub async fn new() -> TestApp {
        TestApp::with(|_| {}).await
    }

    /// An app whose configuration `adjust` may change first.
    /// With `KANECT_TEST_DATABASE_URL` set (a PostgreSQL server), the app gets a new
    /// database of its own there; otherwise a new SQLite file.
    pub async fn with(adjust: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut config = Config {
            data_dir: dir.path().to_path_buf(),
            secret_key: Some(kanect::auth::token::new_secret_key()),
            poll_wait_max_s: 5,
            // Most tests sign people up through /signup; the default (`invite`) is tested
            // on its own in `onboarding`.
            signup: kanect::config::Signup::Open,
            ..Config::default()
        };
        adjust(&mut config);
        let postgres = match config.database_url {
            Some(_) => None,
            None => postgres::Database::create().await,
        };
        if let Some(db) = &postgres {
            config.database_url = Some(db.url.clone());
        }
        let data_dir = config.data_dir.clone();
        let database_url = config.database_url();
        let client = Client::untracked(kanect::app(&config))
            .await
            .expect("the app starts");
        TestApp {
            client,
            dir,
            data_dir,
            database_url,
            postgres,
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.database_url.starts_with("postgres")
    }

    /// An app over an existing data directory (one the command line has used, say).
    /// On PostgreSQL, the database that goes with that directory (`postgres::database_for`).
    pub async fn over(data_dir: &Path) -> TestApp {
        let database_url = postgres::database_for(data_dir);
        let data_dir = data_dir.to_path_buf();
        TestApp::with(move |config| {
            config.data_dir = data_dir;
            config.database_url = database_url;
        })
        .await
    }

    /// A request from someone who is not signed in and holds no cookies.
    pub async fn anonymous(&self, method: &str, path: &str) -> LocalResponse<'_> {
        let mut request = request_for(&self.client, method, path);
        if method != "GET" {
            request = request.header(ContentType::JSON).body("{}");
        }
        request.dispatch().await
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("kanect.db")
    }

    /// Runs SQL directly against the app's database (for states the API cannot reach yet).
    /// Written for both databases: `TRUE`/`FALSE` for flags, say.
    pub async fn sql(&self, sql: &str) {
        postgres::execute(&self.database_url, &self.db_path(), sql).await;
        // What the session cache's watcher would do within `WATCH_EVERY`, at once.
        if let Some(cache) = self
            .client
            .rocket()
            .state::<kanect::auth::cache::Sessions>()
        {
            cache.clear();
        }
    }

    /// Waits until the server has noticed a commit made outside it (by SQL or by the
    /// command line), as its session cache does within `WATCH_EVERY`.
    pub async fn settle(&self) {
        rocket::tokio::time::sleep(kanect::auth::cache::WATCH_EVERY * 3).await;
    }

    /// The one integer a query answers (a count, say), read straight from the database.
    pub async fn count(&self, sql: &str) -> i64 {
        let found = self.ints(sql).await;
        assert_eq!(found.len(), 1, "one row from {sql}");
        found[0]
    }

    /// The one text a query answers, read straight from the database.
    pub async fn text(&self, sql: &str) -> String {
        postgres::text(&self.database_url, &self.db_path(), sql).await
    }

    /// The integers a query answers (ids, say; a flag as 1 or 0), read straight from the
    /// database.
    pub async fn ints(&self, sql: &str) -> Vec<i64> {
        postgres::ints(&self.database_url, &self.db_path(), sql).await
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
        assert_eq!(
            response.status(),
            Status::SeeOther,
            "sign-up of {name} succeeds"
        );
        self.person_from(response, name).await
    }

    /// Signs in through the form.
    pub async fn login(&self, name: &str, password: &str) -> Person<'_> {
        let visitor = self.visitor("/login").await;
        let response = visitor
            .post_form("/login", &[("username", name), ("password", password)])
            .await;
        assert_eq!(
            response.status(),
            Status::SeeOther,
            "sign-in of {name} succeeds"
        );
        self.person_from(response, name).await
    }

    pub async fn person_from(&self, response: LocalResponse<'_>, name: &str) -> Person<'_> {
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
        assert_eq!(home.status(), Status::Ok, "{name} is signed in");
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

/// `html` with the entities Tera's autoescaping writes turned back into characters, so a
/// test can look for text as a browser would show it.
pub fn unescape(html: &str) -> String {
    html.replace("&#x2F;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

pub struct Visitor<'a> {
    pub app: &'a TestApp,
    pub csrf: String,
    pub cookie: Option<Cookie<'static>>,
}

impl<'a> Visitor<'a> {
    /// Posts a form with this visitor's CSRF token and cookie.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> LocalResponse<'a> {
        self.post_form_token(path, Some(&self.csrf), fields).await
    }

    /// Posts a form with this visitor's cookie and the given `csrf_token` (or none).
    pub async fn post_form_token(
        &self,
        path: &str,
        token: Option<&str>,
        fields: &[(&str, &str)],
    ) -> LocalResponse<'a> {
        self.post_from(self.app.client.post(path.to_owned()), token, fields)
            .await
    }

    /// Posts a form from a given client address, as a real connection would have one.
    pub async fn post_form_from(
        &self,
        address: std::net::SocketAddr,
        path: &str,
        fields: &[(&str, &str)],
    ) -> LocalResponse<'a> {
        let request = self.app.client.post(path.to_owned()).remote(address);
        self.post_from(request, Some(&self.csrf), fields).await
    }

    async fn post_from(
        &self,
        request: LocalRequest<'a>,
        token: Option<&str>,
        fields: &[(&str, &str)],
    ) -> LocalResponse<'a> {
        let request = match &self.cookie {
            Some(cookie) => request.cookie(cookie.clone()),
            None => request,
        };
        form_request(request, token, fields).dispatch().await
    }
}

/// A form post: `csrf_token` (when given) and `fields`, URL-encoded.
pub fn form_request<'c>(
    request: LocalRequest<'c>,
    token: Option<&str>,
    fields: &[(&str, &str)],
) -> LocalRequest<'c> {
    let mut all = Vec::new();
    if let Some(token) = token {
        all.push(("csrf_token", token));
    }
    all.extend_from_slice(fields);
    request.header(ContentType::Form).body(form_body(&all))
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
        self.send_token(method, path, Some(&self.csrf), body).await
    }

    /// An unsafe JSON call with the given `X-CSRF-Token` header (or none).
    pub async fn send_token(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> LocalResponse<'a> {
        let mut request = self
            .request(request_for(&self.app.client, method, path))
            .header(ContentType::JSON)
            .body(body.to_string());
        if let Some(token) = token {
            request = request.header(Header::new("X-CSRF-Token", token.to_owned()));
        }
        request.dispatch().await
    }

    /// An unsafe call with the CSRF header and any content type and body bytes.
    pub async fn send_raw(
        &self,
        method: &str,
        path: &str,
        content_type: ContentType,
        body: impl AsRef<[u8]>,
    ) -> LocalResponse<'a> {
        self.request(request_for(&self.app.client, method, path))
            .header(content_type)
            .header(Header::new("X-CSRF-Token", self.csrf.clone()))
            .body(body)
            .dispatch()
            .await
    }

    pub async fn patch(&self, path: &str, body: Value) -> LocalResponse<'a> {
        self.send("PATCH", path, body).await
    }

    /// Every chat as `GET /api/chats` lists them for this person.
    pub async fn chats(&self) -> Vec<Value> {
        let chats = self.get_json("/api/chats", Status::Ok).await;
        chats.as_array().expect("a list of chats").clone()
    }

    /// One chat as this person's `GET /api/chats` shows it.
    pub async fn chat(&self, id: i64) -> Value {
        self.chats()
            .await
            .into_iter()
            .find(|chat| chat["id"] == id)
            .unwrap_or_else(|| panic!("{} sees chat {id}", self.name))
    }

    /// Creates a group chat and returns its id.
    pub async fn group(&self, title: &str, members: &[&str]) -> i64 {
        let chat = self
            .post_json(
                "/api/chats",
                serde_json::json!({ "title": title, "members": members }),
                Status::Created,
            )
            .await;
        chat["id"].as_i64().expect("chat id")
    }

    /// The messages of a chat as `GET /api/chats/<id>/messages?<query>` answers.
    pub async fn history(&self, chat: i64, query: &str) -> Value {
        self.get_json(&format!("/api/chats/{chat}/messages?{query}"), Status::Ok)
            .await
    }

    /// The bodies of the latest page of a chat's history, oldest first.
    pub async fn history_bodies(&self, chat: i64) -> Vec<String> {
        let history = self.history(chat, "").await;
        history["messages"]
            .as_array()
            .unwrap_or_else(|| panic!("messages in {history}"))
            .iter()
            .filter_map(|m| m["body"].as_str().map(str::to_owned))
            .collect()
    }

    /// Where the event stream stands now, as a page that has just loaded asks
    /// (`GET /api/updates` without `after`).
    pub async fn cursor_now(&self) -> i64 {
        let update = self.get_json("/api/updates", Status::Ok).await;
        assert_eq!(
            update["events"],
            serde_json::json!([]),
            "no events: {update}"
        );
        update["cursor"].as_i64().expect("a numeric cursor")
    }

    /// One `GET /api/updates` call, returning its answer.
    pub async fn poll(&self, after: i64, wait: u64) -> Value {
        self.get_json(
            &format!("/api/updates?after={after}&wait={wait}"),
            Status::Ok,
        )
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
        self.post_form_token(path, Some(&self.csrf), fields).await
    }

    /// Posts a form with this person's session and the given `csrf_token` (or none).
    pub async fn post_form_token(
        &self,
        path: &str,
        token: Option<&str>,
        fields: &[(&str, &str)],
    ) -> LocalResponse<'a> {
        form_request(
            self.request(self.app.client.post(path.to_owned())),
            token,
            fields,
        )
        .dispatch()
        .await
    }

    /// Opens (or finds) the direct chat with `other` and returns its id.
    pub async fn chat_with(&self, other: &str) -> i64 {
        let response = self
            .post("/api/chats", serde_json::json!({ "with": other }))
            .await;
        assert!(response.status() == Status::Created || response.status() == Status::Ok);
        let chat: Value = response.into_json().await.expect("chat");
        chat["id"].as_i64().expect("chat id")
    }

    /// Uploads `bytes` as a file named `name` to `chat` (multipart, one `file` part).
    pub async fn upload(&self, chat: i64, name: &str, bytes: &[u8]) -> LocalResponse<'a> {
        let (content_type, body) = multipart(name, bytes);
        self.send_raw(
            "POST",
            &format!("/api/chats/{chat}/attachments"),
            content_type,
            body,
        )
        .await
    }

    /// Uploads a file that must be accepted, returning its attachment object.
    pub async fn uploaded(&self, chat: i64, name: &str, bytes: &[u8]) -> Value {
        let response = self.upload(chat, name, bytes).await;
        assert_eq!(response.status(), Status::Created, "upload of {name}");
        response.into_json().await.expect("an attachment")
    }

    /// Sends `body` with the uploads `files` (attachment objects) and returns the answer.
    pub async fn send_files(&self, chat: i64, body: &str, files: &[&Value]) -> LocalResponse<'a> {
        let ids: Vec<Value> = files.iter().map(|file| file["id"].clone()).collect();
        self.post(
            &format!("/api/chats/{chat}/messages"),
            serde_json::json!({ "body": body, "attachments": ids }),
        )
        .await
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

/// The boundary of the test uploads' multipart bodies.
pub const BOUNDARY: &str = "kanect-test-boundary-7MA4YWxkTrZu0gW";

/// A multipart/form-data body with one `file` part.
pub fn multipart(name: &str, bytes: &[u8]) -> (ContentType, Vec<u8>) {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let content_type =
        ContentType::new("multipart", "form-data").with_params(("boundary", BOUNDARY));
    (content_type, body)
}

/// A request of any method, without cookies or headers yet.
pub fn request_for<'c>(client: &'c Client, method: &str, path: &str) -> LocalRequest<'c> {
    let path = path.to_owned();
    match method {
        "GET" => client.get(path),
        "POST" => client.post(path),
        "PATCH" => client.patch(path),
        "PUT" => client.put(path),
        "DELETE" => client.delete(path),
        other => panic!("unexpected method {other}"),
    }
}

/// The value of a response header, if present.
pub fn header(response: &LocalResponse<'_>, name: &str) -> Option<String> {
    response.headers().get_one(name).map(str::to_owned)
}

/// Where a redirect leads.
pub fn location(response: &LocalResponse<'_>) -> String {
    header(response, "Location").expect("a Location header")
}

/// Asserts a JSON error answer with `status` and `code`, and returns its body.
pub async fn expect_error(response: LocalResponse<'_>, status: Status, code: &str) -> Value {
    assert_eq!(response.status(), status, "error status");
    assert_eq!(
        response.content_type(),
        Some(ContentType::JSON),
        "errors are JSON"
    );
    let body: Value = response.into_json().await.expect("a JSON error body");
    assert!(
        body["error"]["message"].is_string(),
        "error has a message: {body}"
    );
    assert_eq!(body["error"]["code"], code, "error code in {body}");
    body
}

/// A 422 validation error naming `field`; returns the whole body.
pub async fn expect_invalid(response: LocalResponse<'_>, field: &str) -> Value {
    let body = expect_error(response, Status::UnprocessableEntity, "invalid").await;
    assert_eq!(
        body["error"]["field"], field,
        "the error names the field: {body}"
    );
    body
}

/// The `error.code` of a JSON error answer, checking its shape on the way.
pub async fn error_code(response: LocalResponse<'_>) -> String {
    let body: Value = response.into_json().await.expect("a JSON error body");
    assert!(
        body["error"]["message"].is_string(),
        "error has a message: {body}"
    );
    body["error"]["code"]
        .as_str()
        .expect("error has a code")
        .to_owned()
}

/// The keys of a JSON object, sorted.
pub fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .unwrap_or_else(|| panic!("an object: {value}"))
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

impl TestApp {
    /// Signs `name` up and gives them `role` (`staff` or `superuser`).
    pub async fn admin(&self, name: &str, role: &str) -> Person<'_> {
        let person = self.signup(name).await;
        self.sql(&format!(
            "UPDATE users SET role = '{role}' WHERE username = '{name}'"
        ))
        .await;
        person
    }
}

impl<'a> Person<'a> {
    /// A page's HTML with entities turned back into text (see `unescape`), asserting its
    /// status.
    pub async fn page(&self, path: &str, status: Status) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), status, "GET {path}");
        unescape(&response.into_string().await.unwrap_or_default())
    }

    /// Follows a redirect with the flash message it set; returns the page's HTML.
    pub async fn follow(&self, response: LocalResponse<'a>) -> String {
        assert_eq!(response.status(), Status::SeeOther, "a redirect");
        let flash = response
            .cookies()
            .get("_flash")
            .map(|c| c.clone().into_owned());
        let mut request = self.request(self.app.client.get(location(&response)));
        if let Some(flash) = flash {
            request = request.cookie(flash);
        }
        let page = request.dispatch().await;
        assert_eq!(page.status(), Status::Ok, "the redirect's page");
        unescape(&page.into_string().await.unwrap_or_default())
    }
}

pub mod hostile;

/// The events of an update.
pub fn events(update: &Value) -> &Vec<Value> {
    update["events"]
        .as_array()
        .unwrap_or_else(|| panic!("a list of events: {update}"))
}

/// The bodies of the new messages (`message` events) of an update, oldest first.
pub fn bodies(update: &Value) -> Vec<String> {
    events(update)
        .iter()
        .filter(|e| e["type"] == "message")
        .map(|e| {
            e["message"]["body"]
                .as_str()
                .expect("message body")
                .to_owned()
        })
        .collect()
}

/// The types of the events of an update, in order.
pub fn kinds(update: &Value) -> Vec<String> {
    events(update)
        .iter()
        .map(|e| e["type"].as_str().expect("an event type").to_owned())
        .collect()
}

/// An update's cursor.
pub fn cursor(update: &Value) -> i64 {
    update["cursor"].as_i64().expect("a numeric cursor")
}
