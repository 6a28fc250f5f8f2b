//! A keep-alive HTTP/1.1 connection (hyper's client), as one browser tab holds one, and a
//! closed-loop load runner over many of them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Result<T> = std::result::Result<T, Error>;

/// Who a request is from: the session cookie and the session's CSRF token.
#[derive(Clone)]
pub struct Login {
    pub token: String,
    pub csrf: String,
}

pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
}

impl Conn {
    pub async fn open(addr: SocketAddr) -> Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            // Ends when the peer closes or the sender is dropped; either is fine here.
            let _ = connection.await;
        });
        Ok(Conn { sender })
    }

    async fn send(&mut self, request: Request<Full<Bytes>>) -> Result<(StatusCode, Bytes)> {
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }

    pub async fn get(&mut self, path: &str, login: Option<&Login>) -> Result<(StatusCode, Bytes)> {
        let mut request = Request::get(path).header("host", "127.0.0.1");
        if let Some(login) = login {
            request = request.header("cookie", format!("kanect_session={}", login.token));
        }
        self.send(request.body(Full::new(Bytes::new()))?).await
    }

    pub async fn post_json(
        &mut self,
        path: &str,
        login: &Login,
        body: String,
    ) -> Result<(StatusCode, Bytes)> {
        self.unsafe_call(Method::POST, path, login, body).await
    }

    /// A POST, PUT, PATCH or DELETE as the page makes it: cookie, CSRF token, JSON body.
    pub async fn unsafe_call(
        &mut self,
        method: Method,
        path: &str,
        login: &Login,
        body: String,
    ) -> Result<(StatusCode, Bytes)> {
        self.unsafe_with(method, path, login, "application/json", Bytes::from(body))
            .await
    }

    /// A POST of a body of any type (a multipart upload), with cookie and CSRF token.
    /// `body` is sent as it is, with its `Content-Length`; a clone of one `Bytes` shares
    /// its buffer, so many requests can send one large body without copying it.
    pub async fn post_body(
        &mut self,
        path: &str,
        login: &Login,
        content_type: &str,
        body: Bytes,
    ) -> Result<(StatusCode, Bytes)> {
        self.unsafe_with(Method::POST, path, login, content_type, body)
            .await
    }

    async fn unsafe_with(
        &mut self,
        method: Method,
        path: &str,
        login: &Login,
        content_type: &str,
        body: Bytes,
    ) -> Result<(StatusCode, Bytes)> {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "127.0.0.1")
            .header("cookie", format!("kanect_session={}", login.token))
            .header("x-csrf-token", &login.csrf)
            .header("content-type", content_type)
            .body(Full::new(body))?;
        self.send(request).await
    }
}

/// What a closed loop did: answers with the expected status, and anything else.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counted {
    pub ok: u64,
    pub failed: u64,
    pub seconds: f64,
}

impl Counted {
    pub fn per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.ok as f64 / self.seconds
        } else {
            0.0
        }
    }
}

/// `conns` connections each sending one request after the other for `warmup + duration`;
/// only answers that finish inside the measured window count. `one(worker, n, conn)` makes
/// the `n`th request of `worker` and says whether its answer was the expected one.
pub async fn closed_loop<F, Fut>(
    addr: SocketAddr,
    conns: usize,
    warmup: Duration,
    duration: Duration,
    one: F,
) -> Result<Counted>
where
    F: Fn(usize, u64, Conn) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = (bool, Option<Conn>)> + Send,
{
    closed_loop_on(&[addr], conns, warmup, duration, one).await
}

/// [`closed_loop`] over several servers (instances of one Kanect): worker `w` connects to
/// `addrs[w % addrs.len()]`, so the connections are split evenly among them.
pub async fn closed_loop_on<F, Fut>(
    addrs: &[SocketAddr],
    conns: usize,
    warmup: Duration,
    duration: Duration,
    one: F,
) -> Result<Counted>
where
    F: Fn(usize, u64, Conn) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = (bool, Option<Conn>)> + Send,
{
    if addrs.is_empty() {
        return Err("a closed loop needs a server".into());
    }
    let one = Arc::new(one);
    let start = Instant::now();
    let measure_from = start + warmup;
    let stop = measure_from + duration;
    let mut workers = Vec::with_capacity(conns);
    for worker in 0..conns {
        let addr = addrs[worker % addrs.len()];
        let one = one.clone();
        let mut conn = Some(Conn::open(addr).await?);
        workers.push(tokio::spawn(async move {
            let mut counted = Counted::default();
            let mut n = 0;
            while Instant::now() < stop {
                let c = match conn.take() {
                    Some(c) => c,
                    None => match Conn::open(addr).await {
                        Ok(c) => c,
                        Err(_) => {
                            counted.failed += 1;
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            continue;
                        }
                    },
                };
                let (good, back) = one(worker, n, c).await;
                n += 1;
                conn = back;
                let now = Instant::now();
                if now >= measure_from && now < stop {
                    if good {
                        counted.ok += 1;
                    } else {
                        counted.failed += 1;
                    }
                }
            }
            counted
        }));
    }
    let mut total = Counted {
        seconds: duration.as_secs_f64(),
        ..Counted::default()
    };
    for worker in workers {
        let counted = worker.await?;
        total.ok += counted.ok;
        total.failed += counted.failed;
    }
    Ok(total)
}
