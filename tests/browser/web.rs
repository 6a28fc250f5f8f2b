//! The browser-test harness: a real `kanect` process on a fresh data dir and a free port
//! (tests/process), chromedriver, and one Chromium window per person. `Kanect::start`
//! answers `None` where Chromium or chromedriver is missing (see `optional`), so a test
//! begins with `let Some(app) = Kanect::start() else { return };`.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, Locator};
use serde_json::{json, Value};

use super::driver::{self, Browser, Chromedriver};
use crate::process::{self, Server};

pub const PASSWORD: &str = process::PASSWORD;
pub const ROOT_PASSWORD: &str = "lantern-okapi-81";
pub const DESKTOP: (u32, u32) = (1280, 800);
pub const PHONE: (u32, u32) = (390, 844);

/// How long an explicit wait polls before the test fails: generous for a loaded machine;
/// a healthy run meets every wait in milliseconds.
const WAIT: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(25);

/// WebDriver key codes (modifiers stay pressed until NULL).
pub const ENTER: char = '\u{E007}';
pub const SHIFT: char = '\u{E008}';
pub const NULL: char = '\u{E000}';
pub const CONTROL: char = '\u{E009}';
pub const ESCAPE: char = '\u{E00C}';
pub const ARROW_DOWN: char = '\u{E015}';
pub const ALT: char = '\u{E00A}';

pub struct Kanect {
    pub server: Server,
    driver: Arc<Chromedriver>,
    dir: tempfile::TempDir,
    /// The server's environment, for a restart.
    settings: Vec<(String, String)>,
}

impl Kanect {
    pub fn start() -> Option<Kanect> {
        Kanect::start_with(&[])
    }

    /// `start`, with more settings for the server (`("KANECT_MAX_UPLOAD_MB", "1")`).
    pub fn start_with(settings: &[(&str, &str)]) -> Option<Kanect> {
        let tools = crate::optional::or_skip(
            driver::tools(),
            "the browser tests (tests/browser.rs)",
            "KANECT_REQUIRE_BROWSER",
        )?;
        let driver = Chromedriver::shared(&tools);
        let dir = tempfile::tempdir().expect("a data folder");
        let mut env = vec![("KANECT_DATA_DIR", "data"), ("KANECT_LOG_LEVEL", "warn")];
        let database = crate::common::postgres::database_for(dir.path());
        if let Some(url) = &database {
            env.push(("KANECT_DATABASE_URL", url));
        }
        env.extend_from_slice(settings);
        let server = Server::start(&process::binary(), dir.path(), &env);
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        Some(Kanect {
            server,
            driver,
            dir,
            settings: env.collect(),
        })
    }

    /// The server's data dir.
    pub fn data_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    /// Stops the server (SIGTERM, as a restart does) and waits for it to exit.
    pub fn stop_server(&mut self) {
        self.server.signal("TERM");
        self.server.wait_exit(Duration::from_secs(30));
    }

    /// Starts the server again on the same data and port, and waits until it is healthy.
    pub fn start_server_again(&mut self) {
        let env: Vec<(&str, &str)> = self
            .settings
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let port = self.server.port;
        self.server = Server::start_on(&process::binary(), self.dir.path(), &env, port);
    }

    /// Signs `name` up over HTTP (not through a browser): for people a scenario needs
    /// but does not watch. The answer can seed chats and messages through the API.
    pub fn member(&self, name: &str) -> process::Browser {
        process::Browser::signup(&self.server, name)
    }

    /// What the command line needs to reach this server's database.
    fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![("KANECT_DATA_DIR", "data".to_owned())];
        if let Some(url) = crate::common::postgres::database_for(self.dir.path()) {
            env.push(("KANECT_DATABASE_URL", url));
        }
        env
    }

    /// `kanect createsuperuser` against this server's data dir.
    pub fn superuser(&self, name: &str) {
        let env = self.env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let made = process::run_with_input(
            &process::binary(),
            self.dir.path(),
            &env,
            &["createsuperuser", "--username", name, "--password-stdin"],
            &format!("{ROOT_PASSWORD}\n"),
        );
        assert!(
            made.status.success(),
            "createsuperuser: {}",
            String::from_utf8_lossy(&made.stderr)
        );
    }

    /// A fresh browser, signed in to nothing.
    pub async fn window(&self, (width, height): (u32, u32)) -> Window {
        Window {
            browser: self.driver.browser(width, height).await,
            base: self.server.base.clone(),
        }
    }

    /// A fresh browser in which `name` has signed in through the form, on the chat home.
    pub async fn signed_in(&self, name: &str, size: (u32, u32)) -> Window {
        let window = self.window(size).await;
        window.sign_in(name, PASSWORD).await;
        window.wait_chat_ready().await;
        window
    }

    /// alice and bob, signed up, each signed in on a desktop window with their chat open.
    pub async fn alice_and_bob_in_their_chat(&self) -> (Window, Window) {
        let mut alice = self.member("alice");
        self.member("bob");
        alice.chat_with("bob");
        let alice = self.signed_in("alice", DESKTOP).await;
        let bob = self.signed_in("bob", DESKTOP).await;
        alice.open_chat_with("bob").await;
        bob.open_chat_with("alice").await;
        (alice, bob)
    }
}

/// A person driven over HTTP (signed up, holding a session and CSRF token): seeds
/// chats and messages through the JSON API.
pub type Member = process::Browser;

/// Posts `body` to chat `chat` as `member`; answers the message id.
pub fn say(member: &mut Member, chat: i64, body: &str) -> i64 {
    let path = format!("/api/chats/{chat}/messages");
    let reply = member.json("POST", &path, &json!({ "body": body }));
    assert_eq!(reply.status, 201, "{}", reply.text());
    reply.json()["id"].as_i64().expect("a message id")
}

/// Creates a group chat titled `title` with `members`, as `member`; answers its id.
pub fn group(member: &mut Member, title: &str, members: &[&str]) -> i64 {
    let body = json!({ "title": title, "members": members });
    let reply = member.json("POST", "/api/chats", &body);
    assert_eq!(reply.status, 201, "{}", reply.text());
    reply.json()["id"].as_i64().expect("a chat id")
}

pub struct Window {
    browser: Browser,
    pub base: String,
}

impl std::ops::Deref for Window {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.browser.client
    }
}

/// A window onto the file system, with no server behind it (an export's pages), or
/// `None` where Chromium is missing, as `Kanect::start`.
pub async fn offline_window((width, height): (u32, u32)) -> Option<Window> {
    let tools = crate::optional::or_skip(
        driver::tools(),
        "the browser tests (tests/browser.rs)",
        "KANECT_REQUIRE_BROWSER",
    )?;
    let driver = Chromedriver::shared(&tools);
    Some(Window {
        browser: driver.browser(width, height).await,
        base: "file://".to_owned(),
    })
}

impl Window {
    /// From now on the pages of this window see a device set to dark.
    pub fn prefer_dark(&self) {
        self.browser.prefer_dark();
    }

    /// This window's pages may show notifications (as if the person had allowed them).
    pub fn grant_notifications(&self) {
        self.browser.grant_notifications(&self.base);
    }

    /// One Chrome DevTools Protocol command on this window's page: its result.
    pub fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.browser.cdp(cmd, params)
    }

    pub async fn goto(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.browser
            .client
            .goto(&url)
            .await
            .unwrap_or_else(|e| panic!("opening {url}: {e}"));
    }

    /// The path and query of the page shown now.
    pub async fn path(&self) -> String {
        let url = self.current_url().await.expect("the current URL");
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    pub async fn find(&self, css: &str) -> Element {
        match self.browser.client.find(Locator::Css(css)).await {
            Ok(found) => found,
            Err(e) => panic!("no element `{css}` on {}: {e}", self.path().await),
        }
    }

    pub async fn click_xpath(&self, xpath: &str) {
        let found = match self.browser.client.find(Locator::XPath(xpath)).await {
            Ok(found) => found,
            Err(e) => panic!("no element {xpath} on {}: {e}", self.path().await),
        };
        found
            .click()
            .await
            .unwrap_or_else(|e| panic!("clicking {xpath}: {e}"));
    }

    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.browser
            .client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("finding `{css}`: {e}"))
    }

    /// Clicks what `css` matches, finding it again if the page re-rendered it in between.
    pub async fn click(&self, css: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.wait_visible(css).await.click().await {
                Ok(()) => return,
                Err(e) if e.to_string().contains("stale element") && Instant::now() < deadline => {
                    tokio::time::sleep(POLL).await;
                }
                Err(e) => panic!("clicking `{css}`: {e}"),
            }
        }
    }

    /// Clears a field, then types `text` into it as key presses.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.wait_visible(css).await;
        field
            .clear()
            .await
            .unwrap_or_else(|e| panic!("clearing `{css}`: {e}"));
        field
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("typing into `{css}`: {e}"));
    }

    pub async fn text(&self, css: &str) -> String {
        self.find(css)
            .await
            .text()
            .await
            .unwrap_or_else(|e| panic!("text of `{css}`: {e}"))
    }

    /// Runs `script` (a function body; `arguments` are `args`) in the page.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.browser
            .client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Polls `script` until it returns something truthy, and returns that; fails after
    /// the wait limit with `what` and the page it was on.
    pub async fn wait_js(&self, what: &str, script: &str, args: Vec<Value>) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            // A script can fail while a page is loading: that is "not yet", not an error.
            if let Ok(value) = self.browser.client.execute(script, args.clone()).await {
                let truthy = !matches!(&value, Value::Null | Value::Bool(false))
                    && value != json!(0)
                    && value != json!("");
                if truthy {
                    return value;
                }
            }
            if Instant::now() > deadline {
                panic!("waited {WAIT:?} for {what} on {}", self.path().await);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until `css` matches an element that is displayed, and returns it.
    pub async fn wait_visible(&self, css: &str) -> Element {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(found) = self.browser.client.find(Locator::Css(css)).await {
                if found.is_displayed().await.unwrap_or(false) {
                    return found;
                }
            }
            if Instant::now() > deadline {
                panic!(
                    "waited {WAIT:?} for `{css}` to show on {}",
                    self.path().await
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until the element `css` is displayed and its text contains `needle`.
    pub async fn wait_text(&self, css: &str, needle: &str) -> String {
        let script = "const e = document.querySelector(arguments[0]); \
                      return e && e.checkVisibility() && e.innerText.includes(arguments[1]) ? e.innerText : null";
        let found = self
            .wait_js(
                &format!("`{css}` to show {needle:?}"),
                script,
                vec![json!(css), json!(needle)],
            )
            .await;
        found.as_str().unwrap_or_default().to_owned()
    }

    /// Waits until nothing matching `css` is displayed.
    pub async fn wait_hidden(&self, css: &str) {
        let script = "return [...document.querySelectorAll(arguments[0])].every((e) => !e.checkVisibility())";
        self.wait_js(&format!("`{css}` to hide"), script, vec![json!(css)])
            .await;
    }

    pub async fn wait_path(&self, path: &str) {
        let deadline = Instant::now() + WAIT;
        while self.path().await != path {
            if Instant::now() > deadline {
                panic!("waited {WAIT:?} for {path}, still on {}", self.path().await);
            }
            tokio::time::sleep(POLL).await;
        }
        self.wait_js(
            "the page to load",
            "return document.readyState === 'complete'",
            vec![],
        )
        .await;
    }

    /// Fills in and submits the sign-in form (opening it first if need be).
    pub async fn submit_sign_in(&self, name: &str, password: &str) {
        if !self.path().await.starts_with("/login") {
            self.goto("/login").await;
        }
        self.fill("#id_username", name).await;
        self.fill("#id_password", password).await;
        self.click("form[action='/login'] button[type=submit]")
            .await;
    }

    /// Signs in through the sign-in form; waits to leave it.
    pub async fn sign_in(&self, name: &str, password: &str) {
        self.submit_sign_in(name, password).await;
        self.wait_js(
            "sign-in to finish",
            "return !location.pathname.startsWith('/login') && document.readyState === 'complete'",
            vec![],
        )
        .await;
    }

    /// Waits until the chat home has loaded its people and chats.
    pub async fn wait_chat_ready(&self) {
        self.wait_visible("#search").await;
        self.wait_hidden("#lists-loading").await;
    }

    /// The sidebar button of the direct chat with a person.
    pub fn person(name: &str) -> String {
        format!("#chat-list button[data-username='{name}']")
    }

    /// A person in the "New message" dialog.
    pub fn person_option(name: &str) -> String {
        format!("#person-list [data-username='{name}']")
    }

    /// Opens the direct chat with `name` from the sidebar, or through "New message" when
    /// there is none yet (then the first message sent makes it).
    pub async fn open_chat_with(&self, name: &str) {
        if self.find_all(&Self::person(name)).await.is_empty() {
            self.click("#new-message").await;
            self.fill("#person-filter", name).await;
            self.click(&Self::person_option(name)).await;
        } else {
            self.click(&Self::person(name)).await;
        }
        self.wait_text("#chat-title", name).await;
        self.wait_hidden("#messages-loading").await;
    }

    /// Types `text` into the composer and presses Enter.
    pub async fn send(&self, text: &str) {
        let input = self.wait_visible("#composer-input").await;
        input
            .send_keys(&format!("{text}{ENTER}"))
            .await
            .expect("typing a message");
    }

    /// Waits until a message with exactly this body is in the open chat.
    pub async fn wait_message(&self, body: &str) {
        let script = "return [...document.querySelectorAll('#message-list [data-message-body]')] \
                      .some((body) => body.textContent === arguments[0])";
        self.wait_js(&format!("message {body:?}"), script, vec![json!(body)])
            .await;
    }

    /// Saves a PNG of the viewport as target/tmp/screenshots/`name`.png, and into
    /// docs/screenshots/ when KANECT_UPDATE_SCREENSHOTS=1 (so that a normal test run
    /// leaves the committed images alone).
    pub async fn screenshot(&self, name: &str) {
        // Let fonts and the last layout settle, and hide the text caret.
        self.js(
            "document.activeElement && document.activeElement.blur(); return document.fonts.ready.then(() => true)",
            vec![],
        )
        .await;
        let png = self
            .browser
            .client
            .screenshot()
            .await
            .expect("a screenshot");
        let mut folders = vec![PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots")];
        if std::env::var("KANECT_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
            folders.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots"));
        }
        for folder in folders {
            std::fs::create_dir_all(&folder).expect("a screenshot folder");
            std::fs::write(folder.join(format!("{name}.png")), &png).expect("the PNG is saved");
        }
    }

    /// Console errors and CSP violations the page reported since the last look, except
    /// those containing one of `expected` (errors a scenario causes on purpose).
    pub fn console_problems(&self, expected: &[&str]) -> Vec<String> {
        self.browser
            .take_log()
            .into_iter()
            .filter_map(|entry| {
                let message = entry["message"].as_str().unwrap_or_default().to_owned();
                let csp =
                    message.contains("Content Security Policy") || message.contains("Refused to");
                let severe = entry["level"] == "SEVERE";
                let allowed = !csp && expected.iter().any(|e| message.contains(e));
                ((csp || severe) && !allowed)
                    .then(|| format!("{} ({}): {message}", entry["level"], entry["source"]))
            })
            .collect()
    }

    /// Fails on any console error or CSP violation since the last look.
    pub fn assert_console_clean(&self) {
        let problems = self.console_problems(&[]);
        assert!(
            problems.is_empty(),
            "the browser reported problems:\n{}",
            problems.join("\n")
        );
    }
}
