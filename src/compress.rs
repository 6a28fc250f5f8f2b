//! Pages compressed as they are sent, for the pages that opt in with the `Compressed`
//! guard. The chat home is most of a cold load's bytes, and brotli makes a fifth of it.
//!
//! Opt-in, not every page: compressing a page that holds a secret beside text an attacker
//! can put into it lets the attacker read the secret from the answer's length (BREACH).
//! The pages that opt in hold no secret but the CSRF token, and carry it masked afresh on
//! every answer (`auth::token::masked`).

use std::io::{Cursor, Write};

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::{ContentType, Header};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::Response;

use crate::embed::encoding::{self, Encoding};

/// A request guard: the page this route answers with may be compressed.
pub struct Compressed;

/// The mark the guard leaves on its request.
struct OptedIn(bool);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Compressed {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        req.local_cache(|| OptedIn(true));
        Outcome::Success(Compressed)
    }
}

/// Brotli's quality for a page made per request: level 5 is within a few percent of 11
/// on HTML and takes well under a millisecond for the chat home.
const BROTLI_QUALITY: i32 = 5;
const BROTLI_WINDOW: i32 = 22;

/// Smaller pages are not worth the work (and may grow).
const MIN_BYTES: usize = 1024;

pub struct Compression;

#[rocket::async_trait]
impl Fairing for Compression {
    fn info(&self) -> Info {
        Info {
            name: "Page compression",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        if !req.local_cache(|| OptedIn(false)).0
            || res.content_type() != Some(ContentType::HTML)
            || res.headers().contains("Content-Encoding")
        {
            return;
        }
        res.set_header(Header::new("Vary", "Accept-Encoding"));
        let coding = encoding::choose(req.headers().get("Accept-Encoding"), true, true);
        let Some(name) = coding.header() else { return };
        let Ok(page) = res.body_mut().to_bytes().await else {
            // The body could not be read: it is gone, so say so rather than send half.
            res.set_status(rocket::http::Status::InternalServerError);
            return;
        };
        let body = match compressed(&page, coding) {
            Some(body) if page.len() >= MIN_BYTES => {
                res.set_header(Header::new("Content-Encoding", name));
                body
            }
            _ => page,
        };
        res.set_sized_body(body.len(), Cursor::new(body));
    }
}

fn compressed(page: &[u8], coding: Encoding) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(page.len() / 4);
    match coding {
        Encoding::Brotli => {
            let params = brotli::enc::BrotliEncoderParams {
                quality: BROTLI_QUALITY,
                lgwin: BROTLI_WINDOW,
                ..Default::default()
            };
            brotli::BrotliCompress(&mut &page[..], &mut out, &params).ok()?;
        }
        Encoding::Gzip => {
            let mut writer = flate2::write::GzEncoder::new(&mut out, flate2::Compression::new(6));
            writer.write_all(page).ok()?;
            writer.finish().ok()?;
        }
        Encoding::Identity => return None,
    }
    Some(out)
}
