//! What happens to data when the server stops: `kill -9` mid-load loses no acknowledged
//! message, SIGTERM and SIGINT stop gracefully, and a backup taken under write load is
//! sound. These drive the real binary over HTTP (see `process`).

use crate::process;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use process::{Browser, Server};
use serde_json::json;

/// What the writers saw: every message acknowledged with 201 (id, body), and anything else.
#[derive(Default)]
struct Tally {
    acknowledged: Mutex<Vec<(i64, String)>>,
    unanswered: AtomicUsize,
    other: Mutex<Vec<String>>,
}

/// `writers` threads, each signed in as `alice` or `bob` in turns, sending numbered
/// messages to `chat` until `stop` is set or the server stops answering.
fn write_load(
    people: &[(String, String, String)],
    base: &str,
    chat: i64,
    writers: usize,
    tag: &str,
    stop: Arc<AtomicBool>,
    tally: Arc<Tally>,
) -> Vec<thread::JoinHandle<()>> {
    (0..writers)
        .map(|w| {
            let (cookie, csrf, _) = people[w % people.len()].clone();
            let url = format!("{base}/api/chats/{chat}/messages");
            let tag = format!("{tag}-w{w}");
            let stop = stop.clone();
            let tally = tally.clone();
            thread::spawn(move || {
                let agent = process::agent();
                for n in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let body = format!("{tag}-{n}");
                    let request = agent
                        .post(&url)
                        .set("Cookie", &cookie)
                        .set("X-CSRF-Token", &csrf)
                        .set("Content-Type", "application/json");
                    match process::send(request, Some(&json!({ "body": body }).to_string())) {
                        Ok(reply) if reply.status == 201 => {
                            let id = reply.json()["id"].as_i64().expect("message id");
                            tally.acknowledged.lock().unwrap().push((id, body));
                        }
                        Ok(reply) => tally.other.lock().unwrap().push(format!(
                            "{} {}",
                            reply.status,
                            reply.text()
                        )),
                        Err(_) => {
                            tally.unanswered.fetch_add(1, Ordering::Relaxed);
                            break;
                        }
                    }
                }
            })
        })
        .collect()
}

/// Alice and Bob, signed up, with a direct chat: (cookie header, CSRF token, name) each.
fn two_people(server: &Server) -> (Vec<(String, String, String)>, i64) {
    let mut alice = Browser::signup(server, "alice");
    let bob = Browser::signup(server, "bob");
    let chat = alice.chat_with("bob");
    let people = [(alice, "alice"), (bob, "bob")]
        .into_iter()
        .map(|(b, name)| {
            let cookie = format!("kanect_session={}", b.cookies["kanect_session"]);
            (cookie, b.csrf.clone(), name.to_owned())
        })
        .collect();
    (people, chat)
}

async fn bodies_on_disk(db: &Path) -> Vec<(i64, String)> {
    let mut conn = process::open_db(db).await;
    sqlx::query_as("SELECT id, body FROM messages ORDER BY id")
        .fetch_all(&mut conn)
        .await
        .expect("messages")
}

#[rocket::async_test]
async fn every_acknowledged_message_survives_kill_9_mid_load() {
    const ROUNDS: usize = 3;
    const WRITERS: usize = 6;
    let dir = tempfile::tempdir().unwrap();
    let env = [("KANECT_DATA_DIR", "data"), ("KANECT_LOG_LEVEL", "warn")];
    let bin = process::binary();
    let server = Server::start(&bin, dir.path(), &env);
    let (people, chat) = two_people(&server);
    let tally = Arc::new(Tally::default());
    let mut server = Some(server);
    for round in 0..ROUNDS {
        let running = server
            .take()
            .unwrap_or_else(|| Server::start(&bin, dir.path(), &env));
        // Sessions live in the database, so the same cookies work after each restart.
        let stop = Arc::new(AtomicBool::new(false));
        let before = tally.acknowledged.lock().unwrap().len();
        let writers = write_load(
            &people,
            &running.base,
            chat,
            WRITERS,
            &format!("r{round}"),
            stop.clone(),
            tally.clone(),
        );
        // Kill once the load is well under way: some hundreds acknowledged this round.
        let deadline = Instant::now() + Duration::from_secs(60);
        while tally.acknowledged.lock().unwrap().len() < before + 250 && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
        running.kill_9();
        for writer in writers {
            writer.join().expect("writer thread");
        }
    }

    // Restart on what the kills left, then look at the file.
    let server = Server::start(&bin, dir.path(), &env);
    let check = process::run(&bin, dir.path(), &env, &["check"]);
    assert!(
        check.status.success(),
        "check after kill -9: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    let db = dir.path().join("data/kanect.db");
    assert_eq!(process::integrity(&db).await, "ok");
    let on_disk = bodies_on_disk(&db).await;
    let acknowledged = tally.acknowledged.lock().unwrap().clone();
    assert!(
        tally.other.lock().unwrap().is_empty(),
        "only 201s or no answer: {:?}",
        tally.other.lock().unwrap()
    );
    let mut missing = Vec::new();
    for (id, body) in &acknowledged {
        let copies: Vec<&(i64, String)> = on_disk.iter().filter(|(_, b)| b == body).collect();
        match copies.as_slice() {
            [(stored, _)] => assert_eq!(stored, id, "{body} kept its id"),
            [] => missing.push(body.clone()),
            more => panic!("{body} is stored {} times", more.len()),
        }
    }
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    let mut bodies: Vec<&String> = on_disk.iter().map(|(_, b)| b).collect();
    bodies.sort();
    bodies.dedup();
    assert_eq!(bodies.len(), on_disk.len(), "no message is stored twice");
    let unanswered = tally.unanswered.load(Ordering::Relaxed);
    // A send cut off by the kill may or may not have committed; nothing else may appear.
    assert!(on_disk.len() - acknowledged.len() <= unanswered);
    eprintln!(
        "crash test: {ROUNDS} kill -9 rounds, {WRITERS} writers: {} acknowledged, all present \
         once; {unanswered} sends cut off by the kills, of which {} had committed; \
         {} messages on disk; integrity_check ok",
        acknowledged.len(),
        on_disk.len() - acknowledged.len(),
        on_disk.len()
    );

    // The restarted server serves them too.
    let mut alice = Browser::new(&server);
    alice.cookies.insert(
        "kanect_session".into(),
        people[0].0.trim_start_matches("kanect_session=").into(),
    );
    let last = alice
        .get(&format!("/api/chats/{chat}/messages?limit=1"))
        .json();
    assert_eq!(
        last["messages"][0]["id"].as_i64(),
        on_disk.last().map(|(id, _)| *id)
    );
}

/// Writes a send whose body is only half there, so it is in flight when the signal comes.
fn start_slow_send(
    server: &Server,
    cookie: &str,
    csrf: &str,
    chat: i64,
    body: &str,
) -> (TcpStream, String) {
    let json = json!({ "body": body }).to_string();
    let (first, rest) = json.split_at(json.len() / 2);
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "POST /api/chats/{chat}/messages HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\
         Cookie: {cookie}\r\nX-CSRF-Token: {csrf}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{first}",
        server.port,
        json.len()
    )
    .unwrap();
    stream.flush().unwrap();
    (stream, rest.to_owned())
}

fn graceful_stop(signal: &str) {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("KANECT_DATA_DIR", "data"),
        ("KANECT_POLL_WAIT_MAX_S", "120"),
        ("KANECT_LOG_LEVEL", "info"),
    ];
    let bin = process::binary();
    let mut server = Server::start(&bin, dir.path(), &env);
    let (people, chat) = two_people(&server);
    let (alice_cookie, alice_csrf, _) = &people[0];
    let (bob_cookie, _, _) = &people[1];

    // Bob's tab holds a long poll that would wait two minutes.
    let poll = {
        // Without `after` a poll answers at once: start from where the stream stands.
        let now = process::agent()
            .get(&format!("{}/api/updates", server.base))
            .set("Cookie", bob_cookie)
            .call()
            .ok()
            .and_then(|reply| reply.into_json::<serde_json::Value>().ok())
            .and_then(|update| update["cursor"].as_i64())
            .expect("the stream's cursor");
        let url = format!("{}/api/updates?after={now}&wait=120", server.base);
        let cookie = bob_cookie.clone();
        thread::spawn(move || {
            let asked = Instant::now();
            let reply = process::send(process::agent().get(&url).set("Cookie", &cookie), None);
            (reply, asked.elapsed())
        })
    };
    // Alice's send is half-way through its body.
    let (mut stream, rest) = start_slow_send(
        &server,
        alice_cookie,
        alice_csrf,
        chat,
        "sent while stopping",
    );
    thread::sleep(Duration::from_millis(300));

    let signalled = Instant::now();
    server.signal(signal);
    let (poll_reply, poll_took) = poll.join().unwrap();
    let poll_reply = poll_reply.expect("the waiting long poll is answered");
    assert_eq!(poll_reply.status, 200, "{}", poll_reply.text());
    assert!(
        poll_took < Duration::from_secs(60),
        "answered at once, not after the wait"
    );
    let answered_in = signalled.elapsed();

    // New connections are refused from now on (allowing the accept loop a moment to
    // notice), while the half-sent request stays open.
    let probe = ureq::AgentBuilder::new()
        .timeout(Duration::from_millis(500))
        .build();
    let refusing = (0..10).any(|_| {
        let answered = process::send(probe.get(&format!("{}/healthz", server.base)), None);
        answered.is_err() || {
            thread::sleep(Duration::from_millis(50));
            false
        }
    });
    assert!(refusing, "a new request was still served after the signal");

    // The rest of the body arrives after shutdown has begun: the send still completes.
    stream.write_all(rest.as_bytes()).unwrap();
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .expect("an answer to the send");
    assert!(
        answer.starts_with("HTTP/1.1 201"),
        "the in-flight send: {answer}"
    );
    let sent_id = answer
        .split("\"id\":")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|id| id.parse::<i64>().ok())
        .expect("the stored message's id");

    let status = server.wait_exit(Duration::from_secs(30));
    let stopped_in = signalled.elapsed();
    assert!(
        status.success(),
        "exit status {status}:\n{}",
        server.output()
    );
    let log = server.output();
    assert!(log.contains("database closed and checkpointed"), "{log}");

    // The WAL is folded into the main file: the database is one file at rest.
    let data = dir.path().join("data");
    let wal = std::fs::metadata(data.join("kanect.db-wal")).map(|m| m.len());
    assert!(matches!(wal, Err(_) | Ok(0)), "WAL left behind: {wal:?}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let db = data.join("kanect.db");
        assert_eq!(process::integrity(&db).await, "ok");
        let stored = bodies_on_disk(&db).await;
        assert!(
            stored.contains(&(sent_id, "sent while stopping".to_owned())),
            "{stored:?}"
        );
    });
    eprintln!(
        "graceful {signal}: waiting long poll answered {} ms after the signal, in-flight send \
         answered 201, process exited 0 {} ms after the signal, WAL checkpointed",
        answered_in.as_millis(),
        stopped_in.as_millis()
    );
}

#[test]
fn sigterm_answers_long_polls_finishes_sends_and_checkpoints() {
    graceful_stop("TERM");
}

#[test]
fn sigint_stops_as_gracefully_as_sigterm() {
    graceful_stop("INT");
}

#[rocket::async_test]
async fn a_backup_under_write_load_passes_integrity_check() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("KANECT_DATA_DIR", "data"), ("KANECT_LOG_LEVEL", "warn")];
    let bin = process::binary();
    let mut server = Server::start(&bin, dir.path(), &env);
    let (people, chat) = two_people(&server);
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let writers = write_load(
        &people,
        &server.base,
        chat,
        4,
        "b",
        stop.clone(),
        tally.clone(),
    );
    let mut counts = Vec::new();
    for n in 0..3 {
        // Let some messages land between copies.
        let target = tally.acknowledged.lock().unwrap().len() + 50;
        let deadline = Instant::now() + Duration::from_secs(60);
        while tally.acknowledged.lock().unwrap().len() < target && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
        let name = format!("copy-{n}.db");
        let output = process::run(&bin, dir.path(), &env, &["backup", &name]);
        assert!(
            output.status.success(),
            "backup {n}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let copy = dir.path().join(&name);
        assert_eq!(process::integrity(&copy).await, "ok");
        counts.push(bodies_on_disk(&copy).await.len());
    }
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.join().unwrap();
    }
    assert!(
        tally.other.lock().unwrap().is_empty(),
        "{:?}",
        tally.other.lock().unwrap()
    );
    assert_eq!(tally.unanswered.load(Ordering::Relaxed), 0);
    assert!(
        counts[0] > 0 && counts.windows(2).all(|w| w[0] < w[1]),
        "{counts:?}"
    );
    // Every copy is a working database: a server starts on it.
    let restored = tempfile::tempdir().unwrap();
    std::fs::create_dir(restored.path().join("data")).unwrap();
    std::fs::copy(
        dir.path().join("copy-2.db"),
        restored.path().join("data/kanect.db"),
    )
    .unwrap();
    let on_copy = Server::start(&bin, restored.path(), &env);
    let mut alice = Browser::new(&on_copy);
    alice.cookies.insert(
        "kanect_session".into(),
        people[0].0.trim_start_matches("kanect_session=").into(),
    );
    let page = alice.get(&format!("/api/chats/{chat}/messages?limit=200"));
    assert_eq!(page.status, 200, "the restored copy serves the chat");
    server.signal("TERM");
    assert!(server.wait_exit(Duration::from_secs(30)).success());
    eprintln!("backups under load: copies held {counts:?} messages, each integrity_check ok");
}
