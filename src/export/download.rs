//! "Download my data" on `/account`: the archive of the chats the person is a member of
//! (every message in them, by anyone: what the person could read in the app), as one zip.
//! Built into an unnamed temporary file, then sent from it, so memory stays bounded;
//! one build at a time per server, one download per person a minute, and the files
//! together at most `MAX_FILE_MB`.

use std::collections::HashMap;
use std::io::{BufWriter, Seek, SeekFrom};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rocket::http::{ContentType, Header};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use rocket::{get, routes, Route, State};

use super::{ExportError, ZipSink};
use crate::auth::User;
use crate::db::export::Scope;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::model::UserId;

/// The most a download's files may come to; past it, the person is pointed to an
/// administrator's `kanect export`.
pub const MAX_FILE_MB: u64 = 1024;

/// How long a person waits between two downloads.
const EVERY: Duration = Duration::from_secs(60);

pub fn routes() -> Vec<Route> {
    routes![download]
}

/// Who downloaded when, and the one build under way.
#[derive(Default)]
pub struct Downloads {
    building: tokio::sync::Mutex<()>,
    last: Mutex<HashMap<UserId, Instant>>,
}

impl Downloads {
    /// Counts a download for `user`, unless they had one within `EVERY`: then the
    /// seconds until they may.
    fn admit(&self, user: UserId) -> Result<(), u64> {
        let now = Instant::now();
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        last.retain(|_, at| now.duration_since(*at) < EVERY);
        if let Some(at) = last.get(&user) {
            let wait = EVERY.saturating_sub(now.duration_since(*at));
            return Err(wait.as_secs().max(1));
        }
        last.insert(user, now);
        Ok(())
    }
}

#[get("/account/data.zip")]
async fn download(user: User, db: &Db, downloads: &State<Downloads>) -> Result<ZipDownload> {
    let Ok(_building) = downloads.building.try_lock() else {
        return Err(Error::Throttled { retry_after_s: 10 });
    };
    downloads
        .admit(user.id)
        .map_err(|retry_after_s| Error::Throttled { retry_after_s })?;
    let internal = |e: std::io::Error| Error::Internal(format!("data download: {e}"));
    let temp = tempfile::tempfile().map_err(internal)?;
    let mut sink = ZipSink::new(BufWriter::new(temp));
    let mut conn = db.read.acquire().await?;
    super::write(
        &mut conn,
        Scope::Member(user.id),
        &mut sink,
        Some(MAX_FILE_MB * 1024 * 1024),
    )
    .await
    .map_err(|e| match e {
        ExportError::Db(e) => Error::Database(e),
        ExportError::TooLarge { .. } => Error::DataTooLarge {
            max_mb: MAX_FILE_MB,
        },
        other => Error::Internal(format!("data download: {other}")),
    })?;
    drop(conn);
    let mut file = sink
        .close()
        .map_err(internal)?
        .into_inner()
        .map_err(|e| internal(e.into_error()))?;
    let len = file.seek(SeekFrom::End(0)).map_err(internal)?;
    file.rewind().map_err(internal)?;
    Ok(ZipDownload {
        file: rocket::tokio::fs::File::from_std(file),
        len,
        name: format!("kanect-{}.zip", super::safe_name(&user.username)),
    })
}

pub struct ZipDownload {
    file: rocket::tokio::fs::File,
    len: u64,
    name: String,
}

impl<'r> Responder<'r, 'static> for ZipDownload {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        Response::build()
            .header(ContentType::ZIP)
            .header(Header::new(
                "Content-Disposition",
                format!("attachment; filename=\"{}\"", self.name),
            ))
            .header(Header::new("Cache-Control", "no-store"))
            .sized_body(usize::try_from(self.len).ok(), self.file)
            .ok()
    }
}
