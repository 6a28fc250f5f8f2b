//! `/files/<id>/<name>` and `/files/<id>/thumbnail`: a file's bytes to the members of its
//! chat, read from the database a chunk at a time, with ETags and byte ranges.

use std::io;
use std::ops::RangeInclusive;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::stream::{self, BoxStream};
use rocket::http::{Header, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::{self, Responder, Response};
use rocket::tokio::io::{AsyncRead, AsyncSeek, ReadBuf};
use rocket::{get, routes, Route};
use tokio_util::io::StreamReader;

use crate::auth::User;
use crate::db::files::{self, CHUNK};
use crate::db::{Db, Pool};
use crate::error::{Error, Result};
use crate::model::FileId;

pub fn routes() -> Vec<Route> {
    routes![thumbnail, file]
}

/// The only policy a served file gets: nothing runs, nothing loads, even if a browser is
/// talked into rendering it.
pub const CSP: &str = "default-src 'none'; sandbox";

#[get("/files/<id>/thumbnail", rank = 1)]
async fn thumbnail(
    id: Result<FileId, &str>,
    user: User,
    db: &Db,
    asked: Conditions,
) -> Result<Served> {
    let id = id.map_err(|_| Error::NotFound)?;
    let (bytes, content_type, sha256) = files::thumbnail(&db.read, id, user.id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(Served::new(
        &asked,
        format!("\"{sha256}-thumbnail\""),
        content_type,
        "inline; filename=\"thumbnail\"".to_owned(),
        Body::Bytes(bytes),
    ))
}

#[get("/files/<id>/<_name>", rank = 2)]
async fn file(
    id: Result<FileId, &str>,
    _name: &str,
    user: User,
    db: &Db,
    asked: Conditions,
) -> Result<Served> {
    let id = id.map_err(|_| Error::NotFound)?;
    let stored = files::readable(&db.read, id, user.id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(Served::file(&asked, &db.read, stored))
}

/// `Content-Disposition` with the name twice: plain ASCII for old clients, and the exact
/// name in UTF-8 (RFC 6266) for the rest.
fn disposition(how: &str, name: &str) -> String {
    let plain: String = name
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' && c != '%' => c,
            _ => '_',
        })
        .collect();
    let exact = percent_encoding::utf8_percent_encode(name, NOT_ATTR_CHAR);
    format!("{how}; filename=\"{plain}\"; filename*=UTF-8''{exact}")
}

/// What RFC 8187's `attr-char` leaves out, and so must be percent-encoded.
const NOT_ATTR_CHAR: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// The request's validators and range.
pub struct Conditions {
    if_none_match: Option<String>,
    if_range: Option<String>,
    range: Option<String>,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Conditions {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let header = |name| req.headers().get_one(name).map(str::to_owned);
        Outcome::Success(Conditions {
            if_none_match: header("If-None-Match"),
            if_range: header("If-Range"),
            range: header("Range"),
        })
    }
}

impl Conditions {
    /// `If-None-Match` names this ETag (weakly compared, as RFC 9110 says for it).
    fn unchanged(&self, etag: &str) -> bool {
        self.if_none_match.as_deref().is_some_and(|tags| {
            tags.split(',')
                .map(|tag| tag.trim().trim_start_matches("W/"))
                .any(|tag| tag == "*" || tag == etag)
        })
    }

    /// What to send of a body of `size` bytes: all of it, one range, or nothing (416).
    /// A malformed or multi-part range, or one for another version of the file, is
    /// answered with the whole file, as RFC 9110 allows.
    fn part(&self, etag: &str, size: u64) -> Part {
        let Some(range) = &self.range else {
            return Part::All;
        };
        if self.if_range.as_deref().is_some_and(|tag| tag != etag) {
            return Part::All;
        }
        let Ok(parsed) = http_range_header::parse_range_header(range) else {
            return Part::All;
        };
        match parsed.validate(size) {
            Ok(ranges) => match ranges.as_slice() {
                [one] => Part::Range(one.clone()),
                _ => Part::All,
            },
            // A suffix longer than the file means all of it.
            Err(http_range_header::RangeUnsatisfiableError::FileSuffixOutOfBounds) => Part::All,
            Err(_) => Part::Unsatisfiable,
        }
    }
}

enum Part {
    All,
    Range(RangeInclusive<u64>),
    Unsatisfiable,
}

enum Body {
    /// A file's chunks, read as they are sent.
    Chunks { db: Pool, id: FileId, size: u64 },
    /// A small body held whole (a thumbnail).
    Bytes(Vec<u8>),
}

impl Body {
    fn size(&self) -> u64 {
        match self {
            Body::Chunks { size, .. } => *size,
            Body::Bytes(bytes) => bytes.len() as u64,
        }
    }

    /// The bytes `range` of the body, as a reader.
    fn read(self, range: RangeInclusive<u64>) -> Reader {
        let (start, end) = (*range.start(), *range.end());
        let stream: BoxStream<'static, io::Result<Bytes>> = match self {
            Body::Bytes(bytes) => {
                let bytes = Bytes::from(bytes);
                let part = usize::try_from(start).unwrap_or(usize::MAX)
                    ..usize::try_from(end.saturating_add(1)).unwrap_or(usize::MAX);
                Box::pin(stream::iter(
                    bytes.get(part).map(|b| Ok(Bytes::copy_from_slice(b))),
                ))
            }
            Body::Chunks { db, id, .. } => {
                let chunk = CHUNK as u64;
                Box::pin(stream::try_unfold(start, move |at| {
                    let db = db.clone();
                    async move {
                        if at > end {
                            return Ok(None);
                        }
                        let n = i64::try_from(at / chunk).unwrap_or(i64::MAX);
                        let bytes = files::chunk(&db, id, n)
                            .await
                            .map_err(io::Error::other)?
                            // Deleted while it was being sent: the body stops short.
                            .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
                        let from = usize::try_from(at % chunk).unwrap_or(usize::MAX);
                        let to = usize::try_from((end - n as u64 * chunk + 1).min(chunk))
                            .unwrap_or(usize::MAX)
                            .min(bytes.len());
                        let part = bytes.get(from..to).unwrap_or_default();
                        if part.is_empty() {
                            return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
                        }
                        let next = at + part.len() as u64;
                        Ok(Some((Bytes::copy_from_slice(part), next)))
                    }
                }))
            }
        };
        Reader(StreamReader::new(stream))
    }
}

/// The body's reader. Rocket asks a sized body to seek only when no size was given, and
/// `Served` always gives one; seeking is never needed, so it is refused.
struct Reader(StreamReader<BoxStream<'static, io::Result<Bytes>>, Bytes>);

impl AsyncRead for Reader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncSeek for Reader {
    fn start_seek(self: Pin<&mut Self>, _: io::SeekFrom) -> io::Result<()> {
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }

    fn poll_complete(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<u64>> {
        Poll::Ready(Err(io::Error::from(io::ErrorKind::Unsupported)))
    }
}

/// A file or thumbnail answer with every header the contract names.
pub struct Served {
    status: Status,
    etag: String,
    content_type: String,
    disposition: String,
    content_range: Option<String>,
    body: Option<(u64, Reader)>,
}

impl Served {
    /// A stored file's bytes (or the part `asked` for), read from `db` as they are sent:
    /// shown inline if it is an image that decoded, else a download. Whoever calls this
    /// has decided the asker may read the file.
    pub fn file(asked: &Conditions, db: &Pool, stored: files::Stored) -> Self {
        let how = if stored.is_image() {
            "inline"
        } else {
            "attachment"
        };
        Served::new(
            asked,
            format!("\"{}\"", stored.sha256),
            stored.content_type,
            disposition(how, &stored.name),
            Body::Chunks {
                db: db.clone(),
                id: stored.id,
                size: u64::try_from(stored.size).unwrap_or(0),
            },
        )
    }

    fn new(
        asked: &Conditions,
        etag: String,
        content_type: String,
        disposition: String,
        body: Body,
    ) -> Self {
        let size = body.size();
        let mut served = Served {
            status: Status::Ok,
            etag,
            content_type,
            disposition,
            content_range: None,
            body: None,
        };
        if asked.unchanged(&served.etag) {
            served.status = Status::NotModified;
            return served;
        }
        match asked.part(&served.etag, size) {
            Part::All if size == 0 => {}
            Part::All => served.body = Some((size, body.read(0..=size - 1))),
            Part::Range(range) => {
                served.status = Status::PartialContent;
                served.content_range =
                    Some(format!("bytes {}-{}/{size}", range.start(), range.end()));
                let length = range.end() - range.start() + 1;
                served.body = Some((length, body.read(range)));
            }
            Part::Unsatisfiable => {
                served.status = Status::RangeNotSatisfiable;
                served.content_range = Some(format!("bytes */{size}"));
            }
        }
        served
    }
}

impl<'r> Responder<'r, 'static> for Served {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let mut response = Response::build();
        response
            .status(self.status)
            .raw_header("ETag", self.etag)
            .raw_header("Cache-Control", "private")
            .raw_header("Accept-Ranges", "bytes")
            .raw_header("Content-Security-Policy", CSP)
            .raw_header("X-Content-Type-Options", "nosniff");
        if self.status != Status::NotModified {
            response
                .raw_header("Content-Type", self.content_type)
                .raw_header("Content-Disposition", self.disposition);
        }
        if let Some(range) = self.content_range {
            response.header(Header::new("Content-Range", range));
        }
        if let Some((length, reader)) = self.body {
            response.sized_body(usize::try_from(length).unwrap_or(usize::MAX), reader);
        }
        response.ok()
    }
}
