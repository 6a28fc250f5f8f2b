//! A real `kanect` process on a free port, driven over HTTP: for what the in-process
//! client cannot show (signals, `kill -9`, the binary alone in an empty folder).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const PASSWORD: &str = "purple-walrus-sings-42";

/// Generous, for a loaded two-core machine running a debug build.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The binary under test. CI builds the release binary once and names it in
/// `KANECT_TEST_BINARY`, so these tests prove the artefact that ships; without it the
/// debug build stands in.
pub fn binary() -> PathBuf {
    std::env::var_os("KANECT_TEST_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_kanect")))
}

/// `kanect args` in `cwd` with exactly `env` as its environment; waits for it to finish.
pub fn run(bin: &Path, cwd: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    Command::new(bin)
        .current_dir(cwd)
        .env_clear()
        .envs(env.iter().copied())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the kanect binary runs")
}

/// `kanect args` as `run` does, with `input` on its standard input.
pub fn run_with_input(
    bin: &Path,
    cwd: &Path,
    env: &[(&str, &str)],
    args: &[&str],
    input: &str,
) -> Output {
    use std::io::Write;
    let mut child = Command::new(bin)
        .current_dir(cwd)
        .env_clear()
        .envs(env.iter().copied())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the kanect binary runs");
    if let Some(mut stdin) = child.stdin.take() {
        // It may exit before reading (a bad argument): ignore a broken pipe.
        let _ = stdin.write_all(input.as_bytes());
    }
    child.wait_with_output().expect("the binary finishes")
}

pub struct Server {
    child: Child,
    pub pid: u32,
    pub port: u16,
    pub base: String,
    lines: Arc<Mutex<Vec<String>>>,
    /// From spawning the process to the first healthy `/healthz`.
    pub started_in: Duration,
}

impl Server {
    /// Starts `kanect serve` in `cwd` with only `env` and a free port, and waits until
    /// it is healthy.
    pub fn start(bin: &Path, cwd: &Path, env: &[(&str, &str)]) -> Server {
        let mut command = Command::new(bin);
        command.arg("serve");
        Server::start_command(command, cwd, env)
    }

    /// `start` with the process's limit on open files (soft and hard) set to `limit`.
    pub fn start_with_open_files(
        bin: &Path,
        cwd: &Path,
        env: &[(&str, &str)],
        limit: u64,
    ) -> Server {
        let mut command = Command::new("/bin/sh");
        // `exec`: the shell becomes kanect, so `pid` is the server's own.
        command
            .arg("-c")
            .arg(format!("ulimit -n {limit} && exec \"$0\" serve"))
            .arg(bin);
        Server::start_command(command, cwd, env)
    }

    /// `start` on a given port: a restart of a stopped server where its clients expect it.
    pub fn start_on(bin: &Path, cwd: &Path, env: &[(&str, &str)], port: u16) -> Server {
        let mut command = Command::new(bin);
        command.arg("serve");
        Server::start_command_on(command, cwd, env, port)
    }

    fn start_command(command: Command, cwd: &Path, env: &[(&str, &str)]) -> Server {
        Server::start_command_on(command, cwd, env, free_port())
    }

    fn start_command_on(
        mut command: Command,
        cwd: &Path,
        env: &[(&str, &str)],
        port: u16,
    ) -> Server {
        let spawned = Instant::now();
        let mut child = command
            .current_dir(cwd)
            .env_clear()
            .env("KANECT_PORT", port.to_string())
            // The tests sign people up at /signup; `env` may ask for another mode.
            .env("KANECT_SIGNUP", "open")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the kanect binary starts");
        let lines = Arc::new(Mutex::new(Vec::new()));
        collect(child.stdout.take().expect("stdout"), lines.clone());
        collect(child.stderr.take().expect("stderr"), lines.clone());
        let mut server = Server {
            pid: child.id(),
            child,
            port,
            base: format!("http://127.0.0.1:{port}"),
            lines,
            started_in: Duration::ZERO,
        };
        server.wait_healthy();
        server.started_in = spawned.elapsed();
        server
    }

    fn wait_healthy(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        let agent = agent();
        loop {
            if let Ok(reply) = agent.get(&format!("{}/healthz", self.base)).call() {
                if reply.status() == 200 {
                    return;
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("kanect exited ({status}):\n{}", self.output());
            }
            assert!(
                Instant::now() < deadline,
                "never healthy:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything the process has written so far, stdout and stderr.
    pub fn output(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// Sends SIGTERM or SIGINT (`name` "TERM" or "INT"), with no `kill` program needed.
    pub fn signal(&self, name: &str) {
        use rustix::process::{kill_process, Pid, Signal};
        let signal = match name {
            "TERM" => Signal::TERM,
            "INT" => Signal::INT,
            other => panic!("no signal {other} here"),
        };
        let pid = i32::try_from(self.pid)
            .ok()
            .and_then(Pid::from_raw)
            .expect("a process id");
        kill_process(pid, signal).unwrap_or_else(|e| panic!("kill -s {name}: {e}"));
    }

    /// SIGKILL: no shutdown code runs at all.
    pub fn kill_9(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }

    /// Waits for the process to exit by itself (after a signal).
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                // Let the readers drain the last lines.
                std::thread::sleep(Duration::from_millis(50));
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "still running after {timeout:?}:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn collect(from: impl Read + Send + 'static, lines: Arc<Mutex<Vec<String>>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines() {
            let Ok(line) = line else { break };
            lines.lock().unwrap().push(line);
        }
    });
}

/// A port nobody listens on: the kernel's pick for port 0, released for the server.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

pub fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .redirects(0)
        .timeout(Duration::from_secs(60))
        .build()
}

/// An answer, whatever its status.
pub struct Reply {
    pub status: u16,
    pub headers: BTreeMap<String, Vec<String>>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("JSON ({e}): {}", self.text()))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .and_then(|values| values.first())
            .map(String::as_str)
    }
}

/// No HTTP answer came: refused, reset or timed out.
#[derive(Debug)]
pub struct NoAnswer(pub String);

impl std::fmt::Display for NoAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Sends a request; `Err` only when no HTTP answer came (refused, reset, timed out).
pub fn send(request: ureq::Request, body: Option<&str>) -> Result<Reply, NoAnswer> {
    let response = match body {
        Some(body) => request.send_string(body),
        None => request.call(),
    };
    let response = match response {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(ureq::Error::Transport(transport)) => return Err(NoAnswer(transport.to_string())),
    };
    let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for name in response.headers_names() {
        let values = response.all(&name).into_iter().map(str::to_owned).collect();
        headers.insert(name.to_ascii_lowercase(), values);
    }
    let status = response.status();
    let mut body = Vec::new();
    response
        .into_reader()
        .read_to_end(&mut body)
        .map_err(|e| NoAnswer(format!("reading the body: {e}")))?;
    Ok(Reply {
        status,
        headers,
        body,
    })
}

/// A browser: its own cookies and, once signed in, the page's CSRF token.
pub struct Browser {
    pub base: String,
    pub agent: ureq::Agent,
    pub cookies: BTreeMap<String, String>,
    pub csrf: String,
    /// Sent with every request (a proxy's `X-Forwarded-For`, say).
    pub headers: Vec<(String, String)>,
}

impl Browser {
    pub fn new(server: &Server) -> Browser {
        Browser {
            base: server.base.clone(),
            agent: agent(),
            cookies: BTreeMap::new(),
            csrf: String::new(),
            headers: Vec::new(),
        }
    }

    fn request(&self, method: &str, path: &str) -> ureq::Request {
        let mut request = self.agent.request(method, &format!("{}{path}", self.base));
        for (name, value) in &self.headers {
            request = request.set(name, value);
        }
        if !self.cookies.is_empty() {
            let cookie = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            request = request.set("Cookie", &cookie);
        }
        request
    }

    fn keep_cookies(&mut self, reply: &Reply) {
        for set in reply.headers.get("set-cookie").into_iter().flatten() {
            let pair = set.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() || set.contains("Max-Age=0") {
                    self.cookies.remove(name.trim());
                } else {
                    self.cookies.insert(name.trim().into(), value.into());
                }
            }
        }
    }

    pub fn try_get(&mut self, path: &str) -> Result<Reply, NoAnswer> {
        let reply = send(self.request("GET", path), None)?;
        self.keep_cookies(&reply);
        Ok(reply)
    }

    pub fn get(&mut self, path: &str) -> Reply {
        self.try_get(path)
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    pub fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let mut all = vec![("csrf_token", self.csrf.as_str())];
        all.extend_from_slice(fields);
        let body = all
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let request = self
            .request("POST", path)
            .set("Content-Type", "application/x-www-form-urlencoded");
        let reply = send(request, Some(&body)).unwrap_or_else(|e| panic!("POST {path}: {e}"));
        self.keep_cookies(&reply);
        reply
    }

    /// An API call with the CSRF header; `Err` when no answer came.
    pub fn try_json(&mut self, method: &str, path: &str, body: &Value) -> Result<Reply, NoAnswer> {
        let request = self
            .request(method, path)
            .set("Content-Type", "application/json")
            .set("X-CSRF-Token", &self.csrf);
        let reply = send(request, Some(&body.to_string()))?;
        self.keep_cookies(&reply);
        Ok(reply)
    }

    pub fn json(&mut self, method: &str, path: &str, body: &Value) -> Reply {
        self.try_json(method, path, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// Signs up through the form, then picks up the signed-in page's CSRF token.
    pub fn signup(server: &Server, name: &str) -> Browser {
        Browser::signup_with(server, name, Vec::new())
    }

    /// `signup`, with `headers` on every request (a proxy's `X-Forwarded-For`: sign-ups
    /// are limited per address).
    pub fn signup_with(server: &Server, name: &str, headers: Vec<(String, String)>) -> Browser {
        let mut browser = Browser::new(server);
        browser.headers = headers;
        let page = browser.get("/signup");
        browser.csrf = csrf_in(&page.text()).expect("the sign-up form has a token");
        let email = format!("{name}@example.com");
        let reply = browser.post_form(
            "/signup",
            &[
                ("username", name),
                ("email", &email),
                ("password1", PASSWORD),
                ("password2", PASSWORD),
            ],
        );
        assert_eq!(reply.status, 303, "sign-up of {name}: {}", reply.text());
        let home = browser.get("/");
        assert_eq!(home.status, 200, "{name} is signed in");
        browser.csrf = csrf_in(&home.text()).expect("the home page has a token");
        browser
    }

    /// Signs in through the form, then picks up the signed-in page's CSRF token.
    pub fn login(server: &Server, name: &str, password: &str) -> Browser {
        let mut browser = Browser::new(server);
        let page = browser.get("/login");
        browser.csrf = csrf_in(&page.text()).expect("the sign-in form has a token");
        let reply = browser.post_form("/login", &[("username", name), ("password", password)]);
        assert_eq!(reply.status, 303, "sign-in of {name}: {}", reply.text());
        let home = browser.get("/");
        assert_eq!(home.status, 200, "{name} is signed in");
        browser.csrf = csrf_in(&home.text()).expect("the home page has a token");
        browser
    }

    /// Opens (or finds) the direct chat with `other`; returns its id.
    pub fn chat_with(&mut self, other: &str) -> i64 {
        let reply = self.json("POST", "/api/chats", &serde_json::json!({ "with": other }));
        assert!(matches!(reply.status, 200 | 201), "{}", reply.text());
        reply.json()["id"].as_i64().expect("chat id")
    }
}

pub fn csrf_in(html: &str) -> Option<String> {
    let start = html.find("name=\"csrf-token\" content=\"")? + 27;
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

fn encode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A read-only connection to a database file, for checking what is on disk.
pub async fn open_db(file: &Path) -> sqlx::SqliteConnection {
    use sqlx::ConnectOptions;
    sqlx::sqlite::SqliteConnectOptions::new()
        .filename(file)
        .read_only(true)
        .connect()
        .await
        .expect("the database opens")
}

/// `PRAGMA integrity_check` of a database file, the search index included: that check
/// needs a connection that may write (SQLite runs it as a write-shaped statement, which
/// changes nothing).
pub async fn integrity(file: &Path) -> String {
    use sqlx::ConnectOptions;
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(file)
        .connect()
        .await
        .expect("the database opens");
    sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .expect("integrity_check runs")
}
