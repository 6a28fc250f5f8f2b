//! What one client can hold open, against the real binary: idle and slowloris connections
//! are closed, one address cannot take every socket, and long polls are not cut.

mod process;

use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use process::{Browser, Server, PASSWORD};
use socket2::{Domain, Socket, Type};

/// The server's open files: with this few, one address may hold 512 connections.
const OPEN_FILES: u64 = 1024;
/// More connections than the server could hold at all.
const FLOOD: usize = 1200;
/// How many of the flood send a request head one line at a time, never finishing it.
const SLOWLORIS: usize = 100;
/// The attacker: another loopback address, so the visitor (127.0.0.1) is someone else.
const ATTACKER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
/// Far above the idle deadline (10 s): a connection still open by then is never closed.
const GENEROUS: Duration = Duration::from_secs(60);

fn start(env: &[(&str, &str)]) -> (tempfile::TempDir, Server) {
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

/// One more line of a request head that never ends.
fn trickle(stream: &mut TcpStream, first: bool) {
    let line: &[u8] = if first {
        b"GET /login HTTP/1.1\r\nHost: kanect\r\n"
    } else {
        b"X-Slow: yes\r\n"
    };
    let _ = stream.write_all(line);
}

/// `FLOOD` connections from one address, topped up as the server closes them, until
/// `stop`; then every connection still open, for the caller to watch.
struct Flood {
    open: Arc<Mutex<Vec<(TcpStream, bool)>>>,
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Flood {
    fn start(port: u16) -> Flood {
        let open = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (open, stop) = (open.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let mut open = open.lock().unwrap();
                    open.retain_mut(|(stream, slow): &mut (TcpStream, bool)| {
                        if *slow {
                            trickle(stream, false);
                        }
                        !closed_by_server(stream)
                    });
                    while open.len() < FLOOD && !stop.load(Ordering::Relaxed) {
                        let Some(mut stream) = connect(port) else {
                            break;
                        };
                        let slow = open.iter().filter(|(_, slow)| *slow).count() < SLOWLORIS;
                        if slow {
                            trickle(&mut stream, true);
                        }
                        open.push((stream, slow));
                    }
                    drop(open);
                    std::thread::sleep(Duration::from_millis(200));
                }
            })
        };
        // Let the first wave land before the visitor comes.
        let deadline = Instant::now() + GENEROUS;
        while open.lock().unwrap().len() < FLOOD / 2 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        Flood { open, stop, thread }
    }

    fn stop(self) -> Vec<(TcpStream, bool)> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().expect("the flood thread");
        std::mem::take(&mut *self.open.lock().unwrap())
    }
}

#[test]
fn one_address_holding_idle_and_slowloris_connections_neither_keeps_them_nor_locks_out_a_visitor() {
    let (_dir, server) = start(&[]);
    Browser::signup(&server, "visitor");

    let flood = Flood::start(server.port);
    let mut visitor = Browser::new(&server);
    visitor.agent = ureq::AgentBuilder::new()
        .redirects(0)
        .timeout(Duration::from_secs(20))
        .build();
    let page = visitor.try_get("/login");
    let signed_in = page.as_ref().ok().map(|page| {
        visitor.csrf = process::csrf_in(&page.text()).expect("the sign-in form has a token");
        visitor.post_form("/login", &[("username", "visitor"), ("password", PASSWORD)])
    });
    let mut held = flood.stop();

    let page = page.unwrap_or_else(|e| panic!("the sign-in page did not answer: {e}"));
    assert_eq!(page.status, 200, "{}", page.text());
    assert_eq!(signed_in.map(|reply| reply.status), Some(303), "signed in");
    let deadline = Instant::now() + GENEROUS;
    while !held.is_empty() && Instant::now() < deadline {
        held.retain_mut(|(stream, slow)| {
            if *slow {
                trickle(stream, false);
            }
            !closed_by_server(stream)
        });
        std::thread::sleep(Duration::from_millis(250));
    }
    let slow = held.iter().filter(|(_, slow)| *slow).count();
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
    assert_eq!(body["messages"], serde_json::json!([]), "{body}");
    assert_eq!(body["cursor"].as_i64(), Some(cursor), "{body}");
}
