//! Avatars: an upload decoded with the files pipeline's limits (`files::inspect`), cut to
//! a centred square, made 256 px and re-encoded, so what is served is always an image
//! Kanect made, never the uploaded bytes. Served under a URL that names its version, so
//! browsers keep it for a year and a new avatar is a new URL.

use rocket::http::{ContentType, Header};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use rocket::{get, routes, Route};
use sha2::{Digest, Sha256};

use crate::auth::User;
use crate::db::{profiles, Db};
use crate::error::{Error, Result};
use crate::files::inspect::{self, NotDecoded};
use crate::files::upload;
use crate::model::UserId;
use crate::validate::Invalid;

/// The side of a stored avatar.
pub const SIZE: u32 = 256;
/// Larger pictures are refused from their header, before decoding: 25 megapixels takes a
/// camera's photo, while the decoded pixels stay near 100 MiB.
pub const PIXELS_MAX: u64 = 25_000_000;
/// An avatar upload's size limit.
pub const UPLOAD_MAX_MB: u64 = 10;

pub fn routes() -> Vec<Route> {
    routes![serve]
}

/// A made avatar: its bytes, type and version (a hash of the bytes).
pub struct Made {
    pub data: Vec<u8>,
    pub content_type: &'static str,
    pub version: String,
}

/// `bytes` as an avatar, or why not (422 on `file`).
pub fn make(bytes: &[u8]) -> Result<Made, Invalid> {
    let picture = match inspect::picture(bytes, PIXELS_MAX) {
        Ok((_, picture)) => picture,
        Err(NotDecoded::NotAnImage) => {
            return Err(Invalid::new(
                "file",
                "That file is not an image Kanect can read: use a PNG, JPEG, GIF or WebP.",
            ))
        }
        Err(NotDecoded::TooLarge { width, height }) => {
            return Err(Invalid::new(
                "file",
                format!(
                    "That image is too large ({width} × {height} pixels): use one of at most \
                     {} megapixels.",
                    PIXELS_MAX / 1_000_000
                ),
            ))
        }
    };
    let (width, height) = (picture.width(), picture.height());
    let side = width.min(height);
    let square = picture.crop_imm((width - side) / 2, (height - side) / 2, side, side);
    let small = if side > SIZE {
        square.thumbnail_exact(SIZE, SIZE)
    } else {
        square.resize_exact(SIZE, SIZE, image::imageops::FilterType::CatmullRom)
    };
    let (data, content_type) = inspect::encode(&small)
        .ok_or_else(|| Invalid::new("file", "That image could not be converted."))?;
    let version = format!("{:x}", Sha256::digest(&data))
        .chars()
        .take(16)
        .collect();
    Ok(Made {
        data,
        content_type,
        version,
    })
}

/// Makes `bytes` into `user`'s avatar and stores it; returns its URL.
pub async fn store(db: &Db, user: UserId, bytes: Vec<u8>) -> Result<String> {
    let made = upload::decoding(move || make(&bytes))
        .await
        .ok_or_else(|| Error::Internal("the avatar task did not run".into()))??;
    profiles::set_avatar(
        &db.write,
        user,
        made.content_type,
        &made.data,
        &made.version,
    )
    .await?;
    Ok(profiles::avatar_url(user, &made.version))
}

/// An avatar as served: immutable under its versioned URL.
struct Avatar {
    content_type: ContentType,
    data: Vec<u8>,
}

impl<'r> Responder<'r, 'static> for Avatar {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        Response::build()
            .header(self.content_type)
            // `private`: only signed-in people see avatars, so no shared cache keeps them.
            .header(Header::new(
                "Cache-Control",
                "private, max-age=31536000, immutable",
            ))
            .header(Header::new(
                "Content-Security-Policy",
                "default-src 'none'; sandbox",
            ))
            .sized_body(self.data.len(), std::io::Cursor::new(self.data))
            .ok()
    }
}

/// `GET /avatars/<user id>/<version>`: signed-in people only; an old version is 404.
#[get("/avatars/<id>/<version>")]
async fn serve(id: &str, version: &str, _user: User, db: &Db) -> Result<Avatar> {
    let id: i64 = id.parse().map_err(|_| Error::NotFound)?;
    let (content_type, data) = profiles::avatar(&db.read, UserId(id), version)
        .await?
        .ok_or(Error::NotFound)?;
    let content_type = ContentType::parse_flexible(&content_type).unwrap_or(ContentType::Binary);
    Ok(Avatar { content_type, data })
}
