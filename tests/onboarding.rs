//! A first run in the browser (`/setup` with the one-time setup code) and the sign-up
//! modes: `invite` (the default), `open` and `closed`.

use crate::common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use common::*;
use kanect::config::{Config, Signup};
use rocket::futures::future::join_all;
use rocket::http::Status;

fn from(last: u8) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(198, 51, 100, last)), 41000)
}

/// An app as a fresh installation runs it: the default sign-up mode, nobody there yet.
pub async fn fresh() -> TestApp {
    TestApp::with(|c| c.signup = Config::default().signup).await
}

/// The setup code this app wrote to its data dir.
pub fn setup_code(app: &TestApp) -> String {
    std::fs::read_to_string(app.data_dir.join("setup_code"))
        .expect("a setup code file")
        .trim()
        .to_owned()
}

pub fn account(name: &str) -> Vec<(&'static str, String)> {
    vec![
        ("username", name.to_owned()),
        ("email", format!("{name}@example.com")),
        ("password1", PASSWORD.to_owned()),
        ("password2", PASSWORD.to_owned()),
    ]
}

fn fields<'a>(list: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    list.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// `/setup` posted with `code` and an account for `name`, from `address`.
async fn post_setup<'a>(
    app: &'a TestApp,
    address: SocketAddr,
    code: &str,
    name: &str,
) -> rocket::local::asynchronous::LocalResponse<'a> {
    let mut visitor = app.visitor("/setup").await;
    if visitor.csrf.is_empty() {
        // Setup is over (404): the sign-in page's token, to prove that it stays over.
        visitor = app.visitor("/login").await;
    }
    let mut list = account(name);
    list.push(("setup_code", code.to_owned()));
    visitor
        .post_form_from(address, "/setup", &fields(&list))
        .await
}

/// The first superuser, made through `/setup`, signed in.
pub async fn first_user<'a>(app: &'a TestApp, name: &str) -> Person<'a> {
    let response = post_setup(app, from(1), &setup_code(app), name).await;
    assert_eq!(response.status(), Status::SeeOther, "setup succeeds");
    app.person_from(response, name).await
}

async fn users(app: &TestApp) -> i64 {
    app.count("SELECT count(*) FROM users").await
}

#[rocket::async_test]
async fn invite_is_the_default_and_signup_is_then_not_found() {
    assert_eq!(Config::default().signup, Signup::Invite);
    assert!(Config::default().members_can_invite);
    let app = fresh().await;
    let _root = first_user(&app, "root").await;
    let page = app.client.get("/signup").dispatch().await;
    assert_eq!(page.status(), Status::NotFound);
    let visitor = app.visitor("/login").await;
    let response = visitor.post_form("/signup", &fields(&account("eve"))).await;
    assert_eq!(response.status(), Status::NotFound);
    assert_eq!(users(&app).await, 1, "nobody signed up");
    let login = app.client.get("/login").dispatch().await;
    let html = login.into_string().await.unwrap_or_default();
    assert!(!html.contains("href=\"/signup"), "no sign-up link: {html}");
}

#[rocket::async_test]
async fn a_first_run_leads_to_setup_which_makes_the_superuser_once() {
    let app = fresh().await;
    let code_file = app.data_dir.join("setup_code");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&code_file)
            .expect("code file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "only the owner reads the setup code");
    }
    let code = setup_code(&app);
    assert!(code.len() >= 22, "a long code: {code}");

    // Every page that needs a person leads to setup while nobody exists; the sign-in
    // page points there.
    for page in ["/", "/chats/1", "/account", "/admin/"] {
        let response = app.client.get(page).dispatch().await;
        assert_eq!(response.status(), Status::SeeOther, "{page}");
        assert_eq!(location(&response), "/setup", "{page}");
    }
    let login = app.client.get("/login").dispatch().await;
    let html = login.into_string().await.unwrap_or_default();
    assert!(html.contains("no accounts yet"), "{html}");
    let page = app.client.get("/setup").dispatch().await;
    assert_eq!(page.status(), Status::Ok);
    let html = unescape(&page.into_string().await.unwrap_or_default());
    assert!(html.contains("name=\"setup_code\""), "{html}");
    assert!(
        html.contains(&code_file.display().to_string()),
        "names the file"
    );
    assert!(!html.contains(&code), "the page never shows the code");

    // A wrong code: the page again with the error, nothing created.
    for wrong in ["", "nope", &code[1..], &format!("{code}x")] {
        let response = post_setup(&app, from(2), wrong, "mallory").await;
        assert_eq!(response.status(), Status::Ok, "{wrong:?}");
        let html = response.into_string().await.unwrap_or_default();
        assert!(html.contains("That is not the setup code"), "{html}");
        assert!(html.contains("mallory"), "the typed name stays");
    }
    assert_eq!(users(&app).await, 0, "nothing created");

    // The right code with a weak password: the password's error, nothing created.
    let visitor = app.visitor("/setup").await;
    let mut weak = account("root");
    weak[2].1 = "123".into();
    weak[3].1 = "123".into();
    weak.push(("setup_code", code.clone()));
    let response = visitor.post_form("/setup", &fields(&weak)).await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(users(&app).await, 0);

    let root = first_user(&app, "root").await;
    let me = root.get_json("/api/me", Status::Ok).await;
    assert_eq!(me["role"], "superuser");
    assert!(!code_file.exists(), "the code is gone");
    assert_eq!(
        app.client.get("/setup").dispatch().await.status(),
        Status::NotFound
    );
    // The used code works no more, nor does any other.
    let again = post_setup(&app, from(3), &code, "second").await;
    assert_eq!(again.status(), Status::NotFound);
    assert_eq!(users(&app).await, 1);
    let login = app.client.get("/login").dispatch().await;
    assert_eq!(login.status(), Status::Ok, "sign-in works as usual now");
}

#[rocket::async_test]
async fn two_setups_at_once_make_one_first_user() {
    let app = fresh().await;
    let code = setup_code(&app);
    let tries = ["ann", "ben", "cat", "dan"].map(|name| post_setup(&app, from(4), &code, name));
    let answers = join_all(tries).await;
    let done = answers
        .iter()
        .filter(|r| r.status() == Status::SeeOther)
        .count();
    assert_eq!(done, 1, "one setup wins");
    assert_eq!(users(&app).await, 1, "one first user");
}

#[rocket::async_test]
async fn five_wrong_setup_codes_from_an_address_are_then_429() {
    let app = fresh().await;
    let code = setup_code(&app);
    let limit = kanect::auth::throttle::SIGN_IN_FAILURES;
    for i in 0..limit {
        let response = post_setup(&app, from(5), "wrong", "mallory").await;
        assert_eq!(response.status(), Status::Ok, "wrong code {i}");
    }
    let response = post_setup(&app, from(5), &code, "mallory").await;
    assert_eq!(response.status(), Status::TooManyRequests);
    assert!(header(&response, "Retry-After").is_some());
    let html = response.into_string().await.unwrap_or_default();
    assert!(html.contains("Too many attempts"), "{html}");
    assert_eq!(users(&app).await, 0, "not even the right code passes now");
    // Another address is not held up.
    let response = post_setup(&app, from(6), &code, "root").await;
    assert_eq!(response.status(), Status::SeeOther);
}

#[rocket::async_test]
async fn setup_forms_need_their_csrf_token() {
    let app = fresh().await;
    let code = setup_code(&app);
    let visitor = app.visitor("/setup").await;
    let mut list = account("root");
    list.push(("setup_code", code));
    for token in [None, Some(""), Some("forged")] {
        let response = visitor
            .post_form_token("/setup", token, &fields(&list))
            .await;
        assert_eq!(response.status(), Status::Forbidden, "{token:?}");
    }
    assert_eq!(users(&app).await, 0);
}

#[rocket::async_test]
async fn an_existing_team_never_sees_setup() {
    // With `signup = open`, a person may sign up before anyone sets up: then setup is over.
    let app = TestApp::new().await;
    let _alice = app.signup("alice").await;
    assert_eq!(
        app.client.get("/setup").dispatch().await.status(),
        Status::NotFound
    );
    assert!(
        !app.data_dir.join("setup_code").exists(),
        "the code is gone"
    );
}

#[rocket::async_test]
async fn kanect_config_shows_the_sign_up_keys() {
    let figment = rocket::figment::Figment::from(rocket::figment::providers::Serialized::defaults(
        Config::default(),
    ));
    let loaded = kanect::config::Loaded {
        config: figment.extract().expect("config"),
        figment,
    };
    let lines = loaded.explain();
    let value = |key: &str| {
        lines
            .iter()
            .find(|line| line.key == key)
            .map(|line| line.value.clone())
            .unwrap_or_else(|| panic!("`kanect config` shows {key}"))
    };
    assert_eq!(value("signup"), "\"invite\"");
    assert_eq!(value("members_can_invite"), "true");
}

#[test]
fn a_fresh_binary_in_an_empty_folder_logs_the_setup_code_and_its_data_dir() {
    let dir = tempfile::tempdir().expect("an empty folder");
    let server = crate::process::Server::start(
        &crate::process::binary(),
        dir.path(),
        &[("KANECT_SIGNUP", "invite")],
    );
    let data_dir = dir.path().join("kanect-data");
    let code = std::fs::read_to_string(data_dir.join("setup_code")).expect("the code file");
    let output = server.output();
    assert!(
        output.contains(&format!("setup code {}", code.trim())),
        "the log shows the code:\n{output}"
    );
    let shown = std::fs::canonicalize(&data_dir).expect("data dir");
    assert!(
        output.contains(&format!("data dir {}", shown.display()))
            || output.contains(&format!("data dir {}", data_dir.display())),
        "the log names the data dir as an absolute path:\n{output}"
    );
    let mut browser = crate::process::Browser::new(&server);
    let page = browser.get("/setup");
    assert!(page.text().contains("setup_code"), "{}", page.text());
}
