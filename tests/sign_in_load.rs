//! A wave of sign-ins against the real binary: password checks are bounded (the rest are
//! told, kindly, to come back) and the server's memory returns near its idle figure.

use crate::process;

use std::time::{Duration, Instant};

use process::{Browser, Reply, Server, PASSWORD};

/// Sign-ins sent at once: 100 (what the issue measured), and always twice the cores and
/// queue (five checks per core) of the machine this runs on.
fn wave() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    100.max(10 * cores)
}
/// What a wave may leave behind, over the idle figure, once it is over. Each argon2 check
/// takes 19 MiB: before the bound and the allocator, 100 sign-ins left 1.9 GiB.
const LEFT_BEHIND_MIB: f64 = 64.0;
/// How long the allocator may take to give freed memory back.
const SETTLE: Duration = Duration::from_secs(30);

/// The server's resident memory, from /proc.
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .expect("VmRSS in /proc status");
    kib / 1024.0
}

/// Person `n` of the wave, in a browser of their own at an address of their own (the test
/// plays the proxy): the sign-in throttle, which allows one account or one address only a
/// few attempts, must not be what refuses them.
fn browser(server: &Server, n: usize) -> Browser {
    let mut browser = Browser::new(server);
    let address = format!("10.9.{}.{}", n / 250, 1 + n % 250);
    browser.headers.push(("X-Forwarded-For".into(), address));
    browser
}

fn form(browser: &mut Browser, page: &str) {
    let page = browser.get(page);
    browser.csrf = process::csrf_in(&page.text()).expect("the form has a token");
}

fn sign_up(server: &Server, n: usize) {
    let mut browser = browser(server, n);
    form(&mut browser, "/signup");
    let name = format!("wave{n}");
    let reply = browser.post_form(
        "/signup",
        &[
            ("username", &name),
            ("password1", PASSWORD),
            ("password2", PASSWORD),
        ],
    );
    assert_eq!(reply.status, 303, "sign-up of {name}: {}", reply.text());
}

fn sign_in(server: &Server, n: usize) -> Reply {
    let mut browser = browser(server, n);
    form(&mut browser, "/login");
    let name = format!("wave{n}");
    browser.post_form("/login", &[("username", &name), ("password", PASSWORD)])
}

#[test]
fn a_wave_of_sign_ins_is_bounded_told_to_retry_and_leaves_memory_near_idle() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        &process::binary(),
        dir.path(),
        &[
            ("KANECT_DATA_DIR", "data"),
            ("KANECT_LOG_LEVEL", "warn"),
            ("KANECT_PROXY", "x-forwarded-for"),
        ],
    );
    let wave = wave();
    for n in 0..wave {
        sign_up(&server, n);
    }
    let idle = rss_mib(server.pid);

    let replies: Vec<Reply> = std::thread::scope(|scope| {
        let server = &server;
        let wave: Vec<_> = (0..wave)
            .map(|n| scope.spawn(move || sign_in(server, n)))
            .collect();
        wave.into_iter()
            .map(|sign_in| sign_in.join().expect("a sign-in"))
            .collect()
    });

    let signed_in = replies.iter().filter(|r| r.status == 303).count();
    let busy: Vec<&Reply> = replies.iter().filter(|r| r.status == 503).collect();
    assert_eq!(
        signed_in + busy.len(),
        wave,
        "every sign-in is either done or told to retry: {:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(signed_in > 0, "some sign in");
    assert!(!busy.is_empty(), "not all {wave} checks run at once");
    for reply in busy {
        assert_eq!(reply.header("retry-after"), Some("1"));
        assert!(
            reply
                .text()
                .contains("Kanect is busy checking other passwords"),
            "{}",
            reply.text()
        );
    }
    let deadline = Instant::now() + SETTLE;
    let mut now = rss_mib(server.pid);
    while now > idle + LEFT_BEHIND_MIB && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(500));
        now = rss_mib(server.pid);
    }
    assert!(
        now <= idle + LEFT_BEHIND_MIB,
        "{now:.1} MiB after the wave, {idle:.1} MiB idle"
    );
}
