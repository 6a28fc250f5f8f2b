//! Receiving an upload: the multipart body is read part by part and the file's bytes go
//! to the database a chunk at a time as they arrive, so a 25 MB upload holds one chunk in
//! memory (an image, which must be decoded whole, is the exception). Whatever goes wrong
//! part-way, nothing of the upload is kept.

use multer::{Constraints, Multipart, SizeLimit};
use rocket::data::{Data, ToByteUnit};
use rocket::http::ContentType;
use rocket::request::{FromRequest, Outcome, Request};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use super::inspect;
use crate::db::files::{self, Attachment, Finished, NewFile, CHUNK};
use crate::db::Writer;
use crate::error::{Error, Result};
use crate::model::{ChatId, FileId, UserId};
use crate::validate::{FileName, Invalid};

/// Room for the multipart framing around the file: boundaries, part headers, a name.
const FRAMING: u64 = 64 * 1024;

/// Images decoded at once, server-wide: each may take up to 256 MiB while it decodes.
static DECODING: Semaphore = Semaphore::const_new(2);

/// The `Content-Length` a request declared, if any: an upload that says it is too large
/// is refused before a byte of it is read.
pub struct Declared(Option<u64>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Declared {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let length = req
            .headers()
            .get_one("Content-Length")
            .and_then(|l| l.parse().ok());
        Outcome::Success(Declared(length))
    }
}

/// Where an upload goes and how large it may be.
pub struct Upload<'a> {
    pub chat: ChatId,
    pub uploader: UserId,
    pub max_mb: u64,
    pub writer: &'a Writer,
}

impl Upload<'_> {
    /// Reads the `file` part of a multipart body into a new, unclaimed upload.
    pub async fn receive(
        &self,
        content_type: Option<&ContentType>,
        declared: Declared,
        data: Data<'_>,
    ) -> Result<Attachment> {
        let mut parts = multipart(content_type, declared, data, self.max_mb)?;
        let part = file_part(&mut parts, self.max_mb).await?;
        self.store(part).await
    }

    fn refused(&self, e: multer::Error) -> Error {
        refused(e, self.max_mb)
    }

    /// The part's bytes into the database; on any failure, nothing stays behind.
    async fn store(&self, part: multer::Field<'_>) -> Result<Attachment> {
        let name = FileName::clean(part.file_name().unwrap_or_default());
        let mut file = None;
        let written = self.write(part, name.as_str(), &mut file).await;
        if written.is_err() {
            if let Some(id) = file {
                if let Err(e) = files::discard(self.writer, id).await {
                    tracing::warn!(error = %e, file = %id, "could not remove a failed upload");
                }
            }
        }
        written
    }

    async fn write(
        &self,
        mut part: multer::Field<'_>,
        name: &str,
        file: &mut Option<FileId>,
    ) -> Result<Attachment> {
        let new = NewFile {
            chat: self.chat,
            uploader: self.uploader,
            name,
        };
        let mut pending: Vec<u8> = Vec::with_capacity(CHUNK);
        let mut head: Vec<u8> = Vec::new();
        // Kept whole while it may be an image, which is decoded once it is all in.
        let mut whole: Option<Vec<u8>> = Some(Vec::new());
        let mut hash = Sha256::new();
        let mut size: i64 = 0;
        let mut next_chunk: i64 = 0;
        while let Some(bytes) = part.chunk().await.map_err(|e| self.refused(e))? {
            hash.update(&bytes);
            size = size.saturating_add(i64::try_from(bytes.len()).unwrap_or(i64::MAX));
            let take = bytes.len().min(inspect::HEAD - head.len());
            head.extend_from_slice(&bytes[..take]);
            if let Some(kept) = &mut whole {
                kept.extend_from_slice(&bytes);
                if head.len() == inspect::HEAD && inspect::web_image(&head).is_none() {
                    whole = None;
                }
            }
            let mut rest = &bytes[..];
            while !rest.is_empty() {
                let take = rest.len().min(CHUNK - pending.len());
                pending.extend_from_slice(&rest[..take]);
                rest = &rest[take..];
                if pending.len() == CHUNK {
                    let mut tx = self.writer.begin().await?;
                    let id = match *file {
                        Some(id) => id,
                        None => files::start(&mut tx, &new).await?,
                    };
                    files::put_chunk(&mut tx, id, next_chunk, &pending).await?;
                    tx.commit().await?;
                    *file = Some(id);
                    next_chunk += 1;
                    pending.clear();
                }
            }
        }
        if size == 0 {
            return Err(Invalid::new("file", "The file is empty.").into());
        }
        let decoded = match whole {
            Some(bytes) if inspect::web_image(&head).is_some() => decode(bytes).await,
            _ => None,
        };
        let content_type = inspect::content_type(&head, decoded.as_ref().map(|(f, _)| *f));
        let finished = Finished {
            size,
            sha256: format!("{:x}", hash.finalize()),
            content_type,
            image: decoded.map(|(_, image)| image),
        };
        let mut tx = self.writer.begin().await?;
        let id = match *file {
            Some(id) => id,
            None => files::start(&mut tx, &new).await?,
        };
        if !pending.is_empty() {
            files::put_chunk(&mut tx, id, next_chunk, &pending).await?;
        }
        files::finish(&mut tx, id, &finished).await?;
        tx.commit().await?;
        *file = Some(id);
        let image = finished.image.as_ref();
        Ok(Attachment {
            id,
            name: name.to_owned(),
            size,
            content_type: finished.content_type,
            width: image.map(|i| i64::from(i.width)),
            height: image.map(|i| i64::from(i.height)),
        })
    }
}

/// Decodes an image off the async runtime, a couple at a time.
async fn decode(bytes: Vec<u8>) -> Option<(image::ImageFormat, files::Image)> {
    decoding(move || inspect::decode(&bytes)).await.flatten()
}

/// Runs image work (`work`) off the async runtime, at most a couple at once server-wide:
/// each may take up to 256 MiB while it decodes. `None` if the task could not run.
pub async fn decoding<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let _permit = DECODING.acquire().await.ok()?;
    tokio::task::spawn_blocking(work).await.ok()
}

/// The parts of a multipart body of at most `max_mb` (and its framing); an upload that
/// says it is larger is refused before a byte of it is read.
fn multipart<'r>(
    content_type: Option<&ContentType>,
    declared: Declared,
    data: Data<'r>,
    max_mb: u64,
) -> Result<Multipart<'r>> {
    let boundary = content_type
        .filter(|ct| ct.is_form_data())
        .and_then(|ct| ct.params().find(|(key, _)| *key == "boundary"))
        .map(|(_, boundary)| boundary.to_owned())
        .ok_or_else(|| {
            Error::BadRequest(
                "Upload the file as multipart/form-data, in one part named `file`.".into(),
            )
        })?;
    let max_bytes = max_mb.saturating_mul(1_000_000);
    let whole = max_bytes.saturating_add(FRAMING);
    if declared.0.is_some_and(|length| length > whole) {
        return Err(Error::FileTooLarge { max_mb });
    }
    let limits = SizeLimit::new()
        .whole_stream(whole)
        .for_field("file", max_bytes);
    // Rocket's own limit a little past multer's, so that multer is the one to say so.
    let body = data.open(whole.saturating_add(1).bytes());
    Ok(Multipart::with_reader_with_constraints(
        body,
        boundary,
        Constraints::new().size_limit(limits),
    ))
}

/// The part named `file`; 422 when there is none.
async fn file_part<'r>(parts: &mut Multipart<'r>, max_mb: u64) -> Result<multer::Field<'r>> {
    loop {
        let part = parts.next_field().await.map_err(|e| refused(e, max_mb))?;
        let Some(part) = part else {
            return Err(Invalid::new("file", "Choose a file to upload.").into());
        };
        if part.name() == Some("file") {
            return Ok(part);
        }
    }
}

fn refused(e: multer::Error, max_mb: u64) -> Error {
    match e {
        multer::Error::FieldSizeExceeded { .. } | multer::Error::StreamSizeExceeded { .. } => {
            Error::FileTooLarge { max_mb }
        }
        e => Error::BadRequest(format!("The upload could not be read: {e}.")),
    }
}

/// The bytes of the `file` part of a multipart body of at most `max_mb`, whole, for a
/// file that is only ever small (an avatar).
pub async fn whole_file(
    content_type: Option<&ContentType>,
    declared: Declared,
    data: Data<'_>,
    max_mb: u64,
) -> Result<Vec<u8>> {
    let mut parts = multipart(content_type, declared, data, max_mb)?;
    let mut part = file_part(&mut parts, max_mb).await?;
    let mut bytes = Vec::new();
    while let Some(chunk) = part.chunk().await.map_err(|e| refused(e, max_mb))? {
        bytes.extend_from_slice(&chunk);
    }
    if bytes.is_empty() {
        return Err(Invalid::new("file", "The file is empty.").into());
    }
    Ok(bytes)
}
