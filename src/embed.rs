//! Everything the binary serves is inside it: Tera templates and static assets.

use std::borrow::Cow;
use std::path::PathBuf;

use rocket::http::{ContentType, Header, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use rocket::{get, routes, Route};
use rocket_dyn_templates::Template;
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "templates/"]
struct Templates;

#[derive(RustEmbed)]
#[folder = "assets/"]
#[exclude = "css/input.css"]
struct Assets;

/// The template engine, loaded from the embedded files. Names drop `.tera`
/// (`chat/home.html`), so the content type follows from the name.
pub fn templates() -> impl rocket::fairing::Fairing {
    Template::custom(|engines| {
        let files: Vec<(String, String)> = Templates::iter()
            .filter_map(|path| {
                let name = path.strip_suffix(".tera")?.to_owned();
                let file = Templates::get(&path)?;
                let text = String::from_utf8(file.data.into_owned()).ok()?;
                Some((name, text))
            })
            .collect();
        // All at once, so `{% extends %}` finds its parent whatever the order.
        if let Err(e) = engines.tera.add_raw_templates(files) {
            tracing::error!(error = ?e, "embedded templates do not compile");
        }
    })
}

pub fn routes() -> Vec<Route> {
    routes![asset]
}

/// An embedded file with an ETag; browsers revalidate and get 304 when nothing changed.
pub struct Asset {
    body: Cow<'static, [u8]>,
    content_type: ContentType,
    etag: String,
}

impl<'r> Responder<'r, 'static> for Asset {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let fresh = req
            .headers()
            .get("If-None-Match")
            .any(|tag| tag == self.etag || tag == "*");
        let mut response = Response::build();
        response
            .header(Header::new("ETag", self.etag))
            .header(Header::new("Cache-Control", "no-cache"));
        if fresh {
            response.status(Status::NotModified);
        } else {
            response
                .header(self.content_type)
                .sized_body(self.body.len(), std::io::Cursor::new(self.body));
        }
        Ok(response.finalize())
    }
}

/// Names Rocket refuses as paths (`.hidden`, `..%2f`) are simply not assets: 404.
#[get("/assets/<path..>")]
fn asset(path: Result<PathBuf, rocket::http::uri::error::PathError>) -> Option<Asset> {
    let path = path.ok()?;
    let name = path.to_str()?;
    let file = Assets::get(name)?;
    let content_type = path
        .extension()
        .and_then(|ext| ext.to_str())
        .and_then(ContentType::from_extension)
        .unwrap_or(ContentType::Binary);
    let hash = file.metadata.sha256_hash();
    let etag = format!(
        "\"{}\"",
        hash.iter()
            .take(12)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    Some(Asset {
        body: file.data,
        content_type,
        etag,
    })
}
