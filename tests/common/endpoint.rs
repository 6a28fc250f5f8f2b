//! An HTTP endpoint on a loopback port for the requests Kanect makes itself (Web Push,
//! webhooks): it hands over each request it receives and answers from a script.

use std::time::Duration;

use rocket::tokio::io::{AsyncReadExt, AsyncWriteExt};
use rocket::tokio::net::{TcpListener, TcpStream};
use rocket::tokio::sync::mpsc;
use rocket::tokio::time::timeout;

/// One request as the endpoint received it.
pub struct Received {
    /// `POST /path HTTP/1.1`.
    pub line: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("a {name} header in {:?}", self.headers))
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// What the endpoint answers one request with.
#[derive(Clone)]
pub struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Never answers (the connection stays open).
    hang: bool,
}

impl Answer {
    pub fn status(status: u16) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            hang: false,
        }
    }

    pub fn text(status: u16, body: &str) -> Answer {
        Answer::status(status)
            .header("content-type", "text/plain; charset=utf-8")
            .body(body.as_bytes().to_vec())
    }

    pub fn json(status: u16, body: serde_json::Value) -> Answer {
        Answer::status(status)
            .header("content-type", "application/json")
            .body(body.to_string().into_bytes())
    }

    pub fn hang() -> Answer {
        Answer {
            hang: true,
            ..Answer::status(200)
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Answer {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn body(mut self, body: Vec<u8>) -> Answer {
        self.body = body;
        self
    }
}

/// An endpoint that answers its n-th request with `answers[n]` (the last one again once
/// they run out): its base URL (`http://127.0.0.1:<port>`) and what it receives.
pub async fn start(answers: Vec<Answer>) -> (String, mpsc::UnboundedReceiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let url = format!("http://{}", listener.local_addr().expect("its address"));
    let (tell, received) = mpsc::unbounded_channel();
    rocket::tokio::spawn(async move {
        let mut n = 0;
        while let Ok((mut stream, _)) = listener.accept().await {
            let answer = answers
                .get(n)
                .or(answers.last())
                .cloned()
                .unwrap_or_else(|| Answer::status(200));
            n += 1;
            let tell = tell.clone();
            rocket::tokio::spawn(async move {
                if let Some(request) = read_request(&mut stream).await {
                    let _ = tell.send(request);
                }
                if answer.hang {
                    rocket::tokio::time::sleep(Duration::from_secs(600)).await;
                    return;
                }
                let mut head = format!(
                    "HTTP/1.1 {} X\r\ncontent-length: {}\r\nconnection: close\r\n",
                    answer.status,
                    answer.body.len()
                );
                for (name, value) in &answer.headers {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str("\r\n");
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                // In pieces: a client that stops reading closes the connection midway.
                for piece in answer.body.chunks(64 * 1024) {
                    if stream.write_all(piece).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, received)
}

/// The next request, within 10 s.
pub async fn next(received: &mut mpsc::UnboundedReceiver<Received>) -> Received {
    timeout(Duration::from_secs(10), received.recv())
        .await
        .expect("a request within 10 s")
        .expect("the endpoint runs")
}

/// Whether no request comes within `wait`.
pub async fn none_within(received: &mut mpsc::UnboundedReceiver<Received>, wait: Duration) -> bool {
    timeout(wait, received.recv()).await.is_err()
}

async fn read_request(stream: &mut TcpStream) -> Option<Received> {
    let mut data = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&chunk[..n]);
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_string();
    let line = head.lines().next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while data.len() < head_end + length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        data.extend_from_slice(&chunk[..n]);
    }
    Some(Received {
        line,
        headers,
        body: data[head_end..].to_vec(),
    })
}
