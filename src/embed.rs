//! Everything the binary serves is inside it: Tera templates and static assets.
//!
//! Assets: build.rs compresses each one with brotli and gzip; a request gets the coding
//! its `Accept-Encoding` prefers. Templates name assets only through `asset(path=...)`,
//! which gives the name with the content's hash (`/assets/dist/chat.3f2a1c9e04b7.js`),
//! served `immutable` for a year: a repeat visit asks nothing. A plain name, or a hash
//! that is not the current one (a page from before an upgrade), gets the current file
//! with `no-cache` and an ETag, so a browser never keeps the wrong file under a name.

pub(crate) mod encoding;
mod hashed;

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::PathBuf;

use rocket::http::{ContentType, Header, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use rocket::{get, routes, Route};
use rocket_dyn_templates::tera;
use rocket_dyn_templates::Template;
use rust_embed::RustEmbed;

use encoding::Encoding;

#[derive(RustEmbed)]
#[folder = "templates/"]
struct Templates;

#[derive(RustEmbed)]
#[folder = "assets/"]
#[exclude = "css/input.css"]
struct Assets;

/// An asset as build.rs compressed it, with the hash of what it compressed: in a debug
/// build rust-embed reads the files as they are now, and an edited file is served as it
/// is rather than its stale compressed copy.
struct Precompressed {
    path: &'static str,
    sha256: [u8; 32],
    br: Option<&'static [u8]>,
    gzip: Option<&'static [u8]>,
}

static PRECOMPRESSED: &[Precompressed] = include!(concat!(env!("OUT_DIR"), "/precompressed.rs"));

fn precompressed(path: &str, sha256: &[u8; 32]) -> Option<&'static Precompressed> {
    let at = PRECOMPRESSED
        .binary_search_by(|entry| entry.path.cmp(path))
        .ok()?;
    PRECOMPRESSED
        .get(at)
        .filter(|entry| &entry.sha256 == sha256)
}

/// The template engine, loaded from the embedded files. Names drop `.tera`
/// (`chat/home.html`), so the content type follows from the name.
pub fn templates() -> impl rocket::fairing::Fairing {
    Template::custom(|engines| {
        let files: Vec<(String, String)> = Templates::iter()
            .filter_map(|path| {
                let name = path.strip_suffix(".tera")?.to_owned();
                let file = Templates::get(&path)?;
                let text = String::from_utf8(file.data.into_owned()).ok()?;
                let text = if name.ends_with(".html") {
                    without_indentation(&text)
                } else {
                    text
                };
                Some((name, text))
            })
            .collect();
        engines.tera.register_function("asset", AssetUrl);
        crate::profile::register(&mut engines.tera);
        // All at once, so `{% extends %}` finds its parent whatever the order.
        if let Err(e) = engines.tera.add_raw_templates(files) {
            tracing::error!(error = ?e, "embedded templates do not compile");
        }
    })
}

/// The source of an embedded template, by its file name under templates/ (for the
/// exports, which render outside Rocket).
pub fn template(path: &str) -> Option<String> {
    String::from_utf8(Templates::get(path)?.data.into_owned()).ok()
}

/// A page's source without the indentation of its lines: it is for people reading the
/// templates, and pages go out uncompressed (see the README). No template has a `<pre>`
/// or text in a `<textarea>` spanning lines; what Tera puts in is not touched.
fn without_indentation(text: &str) -> String {
    text.lines()
        .map(str::trim_start)
        .collect::<Vec<_>>()
        .join("\n")
}

/// `{{ asset(path="dist/chat.js") }}`: the URL of an embedded asset under its hashed name.
/// A path that is no asset fails the render, so a typo shows in the first test of the page.
struct AssetUrl;

impl tera::Function for AssetUrl {
    fn call(&self, args: &HashMap<String, tera::Value>) -> tera::Result<tera::Value> {
        let path = args
            .get("path")
            .and_then(|path| path.as_str())
            .ok_or_else(|| tera::Error::msg("asset() takes path=\"...\""))?;
        let file = Assets::get(path).ok_or_else(|| tera::Error::msg(format!("no asset {path}")))?;
        let name = hashed::name(path, &file.metadata.sha256_hash());
        Ok(tera::Value::String(format!("/assets/{name}")))
    }

    /// Made of our own file names and hex digits only: nothing to escape.
    fn is_safe(&self) -> bool {
        true
    }
}

pub fn routes() -> Vec<Route> {
    routes![asset, service_worker, manifest]
}

/// How long a browser may keep an asset without asking.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Caching {
    /// A plain name: ask each time, get 304 when nothing changed.
    Revalidate,
    /// The name carries the current hash: these bytes are what it names, forever.
    Immutable,
}

/// An embedded file in the coding the request prefers.
pub struct Asset {
    body: Cow<'static, [u8]>,
    sha256: [u8; 32],
    compressed: Option<&'static Precompressed>,
    content_type: ContentType,
    caching: Caching,
}

impl<'r> Responder<'r, 'static> for Asset {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let (br, gzip) = self.compressed.map_or((None, None), |c| (c.br, c.gzip));
        let coding = encoding::choose(
            req.headers().get("Accept-Encoding"),
            br.is_some(),
            gzip.is_some(),
        );
        let body = match coding {
            Encoding::Brotli => br.map(Cow::Borrowed),
            Encoding::Gzip => gzip.map(Cow::Borrowed),
            Encoding::Identity => None,
        }
        .unwrap_or(self.body);
        // Each coding is its own representation, with its own tag.
        let etag = format!(
            "\"{}{}\"",
            hashed::hex(&self.sha256, 24),
            coding.header().map(|c| format!("-{c}")).unwrap_or_default()
        );
        let fresh = req
            .headers()
            .get("If-None-Match")
            .flat_map(|tags| tags.split(','))
            .any(|tag| tag.trim() == etag || tag.trim() == "*");
        let cache_control = match self.caching {
            Caching::Revalidate => "no-cache",
            Caching::Immutable => "public, max-age=31536000, immutable",
        };
        let mut response = Response::build();
        response
            .header(Header::new("ETag", etag))
            .header(Header::new("Cache-Control", cache_control));
        if br.is_some() || gzip.is_some() {
            response.header(Header::new("Vary", "Accept-Encoding"));
        }
        if fresh {
            response.status(Status::NotModified);
        } else {
            if let Some(coding) = coding.header() {
                response.header(Header::new("Content-Encoding", coding));
            }
            response
                .header(self.content_type)
                .sized_body(body.len(), std::io::Cursor::new(body));
        }
        Ok(response.finalize())
    }
}

/// Names Rocket refuses as paths (`.hidden`, `..%2f`) are simply not assets: 404.
#[get("/assets/<path..>")]
fn asset(path: Result<PathBuf, rocket::http::uri::error::PathError>) -> Option<Asset> {
    let path = path.ok()?;
    let name = path.to_str()?;
    let (name, file, caching) = match Assets::get(name) {
        Some(file) => (name.to_owned(), file, Caching::Revalidate),
        None => {
            let (plain, tag) = hashed::split(name)?;
            let file = Assets::get(&plain)?;
            let current = hashed::tag(&file.metadata.sha256_hash()) == tag;
            let caching = if current {
                Caching::Immutable
            } else {
                Caching::Revalidate
            };
            (plain, file, caching)
        }
    };
    let content_type = name
        .rsplit_once('.')
        .and_then(|(_, ext)| ContentType::from_extension(ext))
        .unwrap_or(ContentType::Binary);
    let sha256 = file.metadata.sha256_hash();
    Some(Asset {
        compressed: precompressed(&name, &sha256),
        body: file.data,
        sha256,
        content_type,
        caching,
    })
}

/// A file that must live at a fixed root URL, asked for each time (never `immutable`).
fn at_root(name: &str, content_type: ContentType) -> Option<Asset> {
    let file = Assets::get(name)?;
    let sha256 = file.metadata.sha256_hash();
    Some(Asset {
        compressed: precompressed(name, &sha256),
        body: file.data,
        sha256,
        content_type,
        caching: Caching::Revalidate,
    })
}

/// The service worker, at the root so that its scope is the whole site
/// (`assets/sw.js` says what it does).
#[get("/sw.js")]
fn service_worker() -> Option<Asset> {
    at_root("sw.js", ContentType::JavaScript)
}

/// What makes Kanect installable: name, colours, icons. The icons are named by their
/// hashed names, as pages name assets, so a browser keeps them without asking again.
#[get("/manifest.webmanifest")]
fn manifest() -> Option<Asset> {
    let file = Assets::get("manifest.webmanifest")?;
    let mut manifest: serde_json::Value = serde_json::from_slice(&file.data).ok()?;
    for icon in manifest["icons"].as_array_mut()? {
        let path = icon["src"].as_str()?.strip_prefix("/assets/")?;
        let file = Assets::get(path)?;
        let name = hashed::name(path, &file.metadata.sha256_hash());
        icon["src"] = serde_json::Value::String(format!("/assets/{name}"));
    }
    let body = manifest.to_string().into_bytes();
    let sha256: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(&body).into();
    Some(Asset {
        compressed: None,
        body: Cow::Owned(body),
        sha256,
        content_type: ContentType::new("application", "manifest+json"),
        caching: Caching::Revalidate,
    })
}
