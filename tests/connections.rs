//! What one client can hold open, against the real binary: idle and slowloris connections
//! are closed, one address cannot take every socket (not even with requests it leaves
//! hanging mid-body), and long polls are not cut.

use crate::process;

use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use process::{Browser, Server, PASSWORD};
use socket2::{Domain, Socket, Type};

/// The server's open files: with this few, one address may hold 512 connections.
const OPEN_FILES: u64 = 1024;
/// More connections than the server could hold, and enough that without the per-address
/// cap the kernel's backlog (1,024) queues about a thousand of them ahead of the visitor.
const FLOOD: usize = 2000;
/// The attacker: another loopback address, so the visitor (127.0.0.1) is someone else.
const ATTACKER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
/// Far above the idle deadline (10 s): a connection still open by then is never closed.
const GENEROUS: Duration = Duration::from_secs(60);
/// How long the visitor waits for each answer: far longer than a page takes (the issue
/// asks for 1 s), and shorter than the 10 s idle deadline, so that only the per-address
/// cap, not the deadline freeing sockets, can let the visitor in while the flood lasts.
const VISITOR_PATIENCE: Duration = Duration::from_secs(5);

fn start(env: &[(&str, &str)]) -> (tempfile::TempDir, Server) {
    // The flood's own sockets: this process needs more than a default 1,024 too.
    let ours = kanect::limits::raise_open_files().expect("raise this process's open files");
    assert!(
        ours > FLOOD as u64 + 100,
        "this test needs {FLOOD} open files; it may have {ours}"
    );
    let dir = tempfile::tempdir().unwrap();
    let mut all = vec![("KANECT_DATA_DIR", "data"), ("KANECT_LOG_LEVEL", "warn")];
    all.extend_from_slice(env);
    let server = Server::start_with_open_files(&process::binary(), dir.path(), &all, OPEN_FILES);
    (dir, server)
}

/// A connection from `ATTACKER`, or `None` when the server's backlog is full.
fn connect(port: u16) -> Option<TcpStream> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).ok()?;
    socket.bind(&SocketAddr::new(ATTACKER, 0).into()).ok()?;
    let server = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port);
    socket
        .connect_timeout(&server.into(), Duration::from_secs(2))
        .ok()?;
    let stream: TcpStream = socket.into();
    stream.set_nonblocking(true).ok()?;
    Some(stream)
}

/// Whether the server has closed `stream` (end of stream or reset); whatever it sent
/// before closing is read and dropped.
fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
}

/// What one of the flood's connections does.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// Sends nothing.
    Idle,
    /// Sends a request head one line at a time, never finishing it.
    Slowloris,
    /// Sends a whole head announcing a body, then stops: mid-request, which no deadline
    /// cuts (a request may take as long as it needs), so only the per-address cap bounds
    /// how many of these one address holds.
    Stalled,
}

/// How many of each the flood keeps open; the rest are idle.
const SLOWLORIS: usize = 100;
const STALLED: usize = 1100;

impl Kind {
    /// The kind the flood is shortest of.
    fn next(open: &[(TcpStream, Kind)]) -> Kind {
        let count = |kind| open.iter().filter(|(_, k)| *k == kind).count();
        if count(Kind::Slowloris) < SLOWLORIS {
            Kind::Slowloris
        } else if count(Kind::Stalled) < STALLED {
            Kind::Stalled
        } else {
            Kind::Idle
        }
    }

    fn begin(self, stream: &mut TcpStream) {
        let start: &[u8] = match self {
            Kind::Idle => return,
            Kind::Slowloris => b"GET /login HTTP/1.1\r\nHost: kanect\r\n",
            Kind::Stalled => {
                b"POST /login HTTP/1.1\r\nHost: kanect\r\n\
                  Content-Type: application/x-www-form-urlencoded\r\n\
                  Content-Length: 10000\r\n\r\nusername="
            }
        };
        let _ = stream.write_all(start);
    }

    fn go_on(self, stream: &mut TcpStream) {
        if self == Kind::Slowloris {
            let _ = stream.write_all(b"X-Slow: yes\r\n");
        }
    }
}

/// `FLOOD` connections from one address, topped up as the server closes them, until
/// `stop`; then every connection still open, for the caller to watch.
struct Flood {
    open: Arc<Mutex<Vec<(TcpStream, Kind)>>>,
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Flood {
    fn start(port: u16) -> Flood {
        let open = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let made = Arc::new(AtomicUsize::new(0));
        let thread = {
            let (open, stop, made) = (open.clone(), stop.clone(), made.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let mut open = open.lock().unwrap();
                    open.retain_mut(|(stream, kind): &mut (TcpStream, Kind)| {
                        kind.go_on(stream);
                        !closed_by_server(stream)
                    });
                    while open.len() < FLOOD && !stop.load(Ordering::Relaxed) {
                        let Some(mut stream) = connect(port) else {
                            // The backlog is full: the server holds all it can.
                            made.store(FLOOD, Ordering::Relaxed);
                            break;
                        };
                        let kind = Kind::next(&open);
                        kind.begin(&mut stream);
                        open.push((stream, kind));
                        made.fetch_add(1, Ordering::Relaxed);
                    }
                    drop(open);
                    std::thread::sleep(Duration::from_millis(50));
                }
            })
        };
        // The visitor comes once the whole flood has connected (more than the server could
        // hold without a cap: the kernel queues what it has not accepted), or once the
        // server's backlog is full.
        let deadline = Instant::now() + GENEROUS;
        while made.load(Ordering::Relaxed) < FLOOD && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        Flood { open, stop, thread }
    }

    fn stop(self) -> Vec<(TcpStream, Kind)> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().expect("the flood thread");
        std::mem::take(&mut *self.open.lock().unwrap())
    }
}

#[test]
fn a_visitor_signs_in_while_one_address_floods_and_its_idle_and_slowloris_connections_are_closed() {
    let (_dir, server) = start(&[]);
    Browser::signup(&server, "visitor");

    let flood = Flood::start(server.port);
    let mut visitor = Browser::new(&server);
    visitor.agent = ureq::AgentBuilder::new()
        .redirects(0)
        .timeout(VISITOR_PATIENCE)
        .build();
    let page = visitor.try_get("/login");
    let signed_in = page.as_ref().ok().map(|page| {
        visitor.csrf = process::csrf_in(&page.text()).expect("the sign-in form has a token");
        visitor.post_form("/login", &[("username", "visitor"), ("password", PASSWORD)])
    });
    // The stalled requests are the flood's to end; the server must end all the others.
    let mut held: Vec<_> = flood
        .stop()
        .into_iter()
        .filter(|(_, kind)| *kind != Kind::Stalled)
        .collect();

    let page = page.unwrap_or_else(|e| panic!("the sign-in page did not answer: {e}"));
    assert_eq!(page.status, 200, "{}", page.text());
    assert_eq!(signed_in.map(|reply| reply.status), Some(303), "signed in");
    let deadline = Instant::now() + GENEROUS;
    while !held.is_empty() && Instant::now() < deadline {
        held.retain_mut(|(stream, kind)| {
            kind.go_on(stream);
            !closed_by_server(stream)
        });
        std::thread::sleep(Duration::from_millis(250));
    }
    let slow = held.iter().filter(|(_, k)| *k == Kind::Slowloris).count();
    assert!(
        held.is_empty(),
        "{} connections ({slow} of them slowloris) still open after {GENEROUS:?}",
        held.len()
    );
}

#[test]
fn a_long_poll_held_past_the_idle_deadline_still_answers() {
    let (_dir, server) = start(&[("KANECT_POLL_WAIT_MAX_S", "15")]);
    let mut browser = Browser::signup(&server, "poller");
    let first = browser.get("/api/updates?wait=0");
    let cursor = first.json()["cursor"].as_i64().expect("a cursor");

    let answer = browser.get(&format!("/api/updates?after={cursor}&wait=15"));

    assert_eq!(answer.status, 200, "{}", answer.text());
    let body = answer.json();
    assert_eq!(body["events"], serde_json::json!([]), "{body}");
    assert_eq!(body["cursor"].as_i64(), Some(cursor), "{body}");
}
