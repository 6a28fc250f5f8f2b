//! Chromium under chromedriver: finding both, one chromedriver shared by the tests that
//! run at the same time, and one isolated browser (own profile, own cookies) per window.
//! Everything started here is ended on drop, so a failing test leaves no process behind.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};

use crate::process::free_port;

const INSTALL: &str = "on Debian or Ubuntu `sudo apt-get install chromium chromium-driver`, or \
     point KANECT_CHROMIUM and KANECT_CHROMEDRIVER at them";

/// This machine has no internet: without these Chromium hangs on lookups it will never
/// get answers to (updates, sync, field trials), and as root it needs no sandbox.
pub const CHROMIUM_FLAGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-extensions",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    "--lang=en-GB",
];

pub struct Tools {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

/// Chromium and chromedriver, or why the browser tests cannot run here: not installed, or
/// KANECT_SKIP_BROWSER=1 (to skip them where they are).
pub fn tools() -> Result<Tools, String> {
    if std::env::var("KANECT_SKIP_BROWSER").is_ok_and(|v| v == "1") {
        return Err("KANECT_SKIP_BROWSER=1".into());
    }
    let chromium = located(
        "KANECT_CHROMIUM",
        &["chromium", "chromium-browser", "google-chrome"],
    );
    let chromedriver = located("KANECT_CHROMEDRIVER", &["chromedriver"]);
    match (chromium, chromedriver) {
        (Some(chromium), Some(chromedriver)) => Ok(Tools {
            chromium,
            chromedriver,
        }),
        (None, None) => Err(format!("Chromium and chromedriver not found: {INSTALL}")),
        (None, _) => Err(format!("Chromium not found: {INSTALL}")),
        (_, None) => Err(format!("chromedriver not found: {INSTALL}")),
    }
}

fn located(variable: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(variable) {
        return Some(PathBuf::from(path)).filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// A running chromedriver. Tests hold it through an `Arc`: the last one to finish kills it.
pub struct Chromedriver {
    child: Child,
    pub url: String,
    chromium: PathBuf,
}

static SHARED: Mutex<Weak<Chromedriver>> = Mutex::new(Weak::new());

impl Chromedriver {
    /// The chromedriver that concurrently running tests share, started if none runs.
    pub fn shared(tools: &Tools) -> Arc<Chromedriver> {
        let mut shared = SHARED.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(driver) = shared.upgrade() {
            return driver;
        }
        let driver = Arc::new(Chromedriver::start(tools));
        *shared = Arc::downgrade(&driver);
        driver
    }

    fn start(tools: &Tools) -> Chromedriver {
        let port = free_port();
        let child = Command::new(&tools.chromedriver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "{} does not start ({e}): {INSTALL}",
                    tools.chromedriver.display()
                )
            });
        let mut driver = Chromedriver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            chromium: tools.chromium.clone(),
        };
        driver.wait_ready();
        driver
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let agent = agent();
        loop {
            if let Ok(reply) = agent.get(&format!("{}/status", self.url)).call() {
                let status: Value = reply.into_json().unwrap_or_default();
                if status["value"]["ready"] == true {
                    return;
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("chromedriver exited ({status}): {INSTALL}");
            }
            assert!(Instant::now() < deadline, "chromedriver never became ready");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A new browser with its own empty profile, `width` x `height` CSS pixels.
    pub async fn browser(self: &Arc<Self>, width: u32, height: u32) -> Browser {
        let profile = tempfile::tempdir().expect("a profile folder");
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|s| s.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        args.push(format!("--window-size={width},{height}"));
        let mut capabilities = Capabilities::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": self.chromium, "args": args }),
        );
        capabilities.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| {
                panic!("Chromium does not start under chromedriver ({e}): {INSTALL}")
            });
        let created = client
            .session_creation_response()
            .and_then(|r| r.capabilities().cloned());
        let session = client
            .session_id()
            .await
            .ok()
            .flatten()
            .expect("a WebDriver session id");
        let pid = created
            .as_ref()
            .and_then(|c| c.get("goog:processID"))
            .and_then(Value::as_u64)
            .and_then(|pid| u32::try_from(pid).ok());
        let browser = Browser {
            client,
            session,
            pid,
            driver: self.clone(),
            _profile: profile,
        };
        // The window size flag sets the outer window; make the page itself this size.
        browser.set_viewport(width, height).await;
        browser
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser: a WebDriver session on its own Chromium process and profile.
pub struct Browser {
    pub client: Client,
    session: String,
    pid: Option<u32>,
    driver: Arc<Chromedriver>,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Sizes the viewport (not the outer window) to exactly `width` x `height`.
    pub async fn set_viewport(&self, width: u32, height: u32) {
        let inner = self
            .client
            .execute("return [window.innerWidth, window.innerHeight]", vec![])
            .await
            .expect("the viewport size");
        let (w, h) = (
            inner[0].as_u64().unwrap_or(0),
            inner[1].as_u64().unwrap_or(0),
        );
        let (outer_w, outer_h) = self
            .client
            .get_window_size()
            .await
            .expect("the window size");
        let extra_w = outer_w.saturating_sub(w);
        let extra_h = outer_h.saturating_sub(h);
        let width = u32::try_from(u64::from(width) + extra_w).expect("a width");
        let height = u32::try_from(u64::from(height) + extra_h).expect("a height");
        self.client
            .set_window_size(width, height)
            .await
            .expect("the window resizes");
    }

    /// Makes pages see `prefers-color-scheme: dark`, as on a device set to dark (Chrome's
    /// DevTools emulation, through chromedriver).
    pub fn prefer_dark(&self) {
        let features = json!([{ "name": "prefers-color-scheme", "value": "dark" }]);
        self.cdp(
            "Emulation.setEmulatedMedia",
            json!({ "features": features }),
        );
    }

    /// Grants `origin` the notification permission, as a person answering "Allow" would:
    /// the page's own `Notification.requestPermission()` then resolves "granted".
    pub fn grant_notifications(&self, origin: &str) {
        self.cdp(
            "Browser.grantPermissions",
            json!({ "permissions": ["notifications"], "origin": origin }),
        );
    }

    /// One Chrome DevTools Protocol command, through chromedriver: its result.
    pub fn cdp(&self, cmd: &str, params: Value) -> Value {
        let url = format!(
            "{}/session/{}/goog/cdp/execute",
            self.driver.url, self.session
        );
        let reply = agent()
            .post(&url)
            .send_json(json!({ "cmd": cmd, "params": params }))
            .unwrap_or_else(|e| panic!("{cmd}: {e}"));
        let body: Value = reply.into_json().unwrap_or_default();
        body["value"].clone()
    }

    /// Everything the page logged since the last call: console, network and CSP reports.
    pub fn take_log(&self) -> Vec<Value> {
        let url = format!("{}/session/{}/se/log", self.driver.url, self.session);
        let reply = agent()
            .post(&url)
            .send_json(json!({ "type": "browser" }))
            .unwrap_or_else(|e| panic!("reading the browser log: {e}"));
        let body: Value = reply.into_json().expect("the log as JSON");
        body["value"].as_array().cloned().unwrap_or_default()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Synchronous on purpose: on a panic the test's runtime is going away, and a
        // Chromium left running would outlive the test binary.
        let url = format!("{}/session/{}", self.driver.url, self.session);
        let _ = agent().delete(&url).call();
        if let Some(pid) = self.pid {
            if Path::new(&format!("/proc/{pid}")).exists() {
                let _ = Command::new("kill")
                    .args(["-9", &pid.to_string()])
                    .stderr(Stdio::null())
                    .status();
            }
        }
    }
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .build()
}
