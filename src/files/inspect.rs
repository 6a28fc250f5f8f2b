//! What an upload is, judged by its bytes and never by the name or type the client gave:
//! its content type, and for an image that decodes, its size and a thumbnail.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};

use crate::db::files::Image;

/// The long side of a thumbnail, at most.
pub const THUMBNAIL_MAX: u32 = 400;
/// Larger images are stored as plain files: no decoding of a 50,000 × 50,000 "PNG".
const SIDE_MAX: u32 = 12_000;
/// The most one decode may allocate (a decompression bomb stops here).
const DECODED_MAX: u64 = 256 * 1024 * 1024;

/// Bytes from the start of a file enough to tell its type.
pub const HEAD: usize = 8 * 1024;

/// The four formats a browser is let show inline, as their first bytes say.
pub fn web_image(head: &[u8]) -> Option<ImageFormat> {
    image::guess_format(head)
        .ok()
        .filter(|f| WEB_FORMATS.contains(f))
}

const WEB_FORMATS: [ImageFormat; 4] = [
    ImageFormat::Png,
    ImageFormat::Jpeg,
    ImageFormat::Gif,
    ImageFormat::WebP,
];

/// The file's content type: the format of an image that decoded, else what its first
/// bytes are (PDF, ZIP, ...), else plain text if they are text, else just bytes. A file
/// that starts like one of the web image formats but does not decode as one is bytes.
pub fn content_type(head: &[u8], decoded: Option<ImageFormat>) -> String {
    if let Some(format) = decoded {
        return format.to_mime_type().to_owned();
    }
    if web_image(head).is_some() {
        return OCTETS.to_owned();
    }
    match infer::get(head) {
        Some(kind) => kind.mime_type().to_owned(),
        None if is_text(head) => "text/plain; charset=utf-8".to_owned(),
        None => OCTETS.to_owned(),
    }
}

const OCTETS: &str = "application/octet-stream";

/// UTF-8 without control characters other than the usual layout ones. The head may end in
/// the middle of a character.
fn is_text(head: &[u8]) -> bool {
    let valid = match std::str::from_utf8(head) {
        Ok(text) => text,
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    !valid.is_empty()
        && !valid
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\x0c' | '\x1b'))
}

/// Why bytes gave no picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotDecoded {
    /// Not a sound PNG, JPEG, GIF or WebP.
    NotAnImage,
    /// An image, but larger than the caller takes: told by its header, before decoding.
    TooLarge { width: u32, height: u32 },
}

/// Decodes a whole image within the limits (sides, memory, and at most `max_pixels`,
/// checked from the header before a pixel is decoded), turned the way its EXIF says is
/// up. A GIF's first frame stands for it. Slow for a large image: call it off the async
/// runtime.
pub fn picture(bytes: &[u8], max_pixels: u64) -> Result<(ImageFormat, DynamicImage), NotDecoded> {
    let no = NotDecoded::NotAnImage;
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| no)?;
    let format = reader
        .format()
        .filter(|f| WEB_FORMATS.contains(f))
        .ok_or(no)?;
    // The JPEG decoder fills in what is missing: a cut-off photo would "decode" grey.
    if format == ImageFormat::Jpeg && !jpeg_is_whole(bytes) {
        return Err(no);
    }
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(SIDE_MAX);
    limits.max_image_height = Some(SIDE_MAX);
    limits.max_alloc = Some(DECODED_MAX);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| match e {
        image::ImageError::Limits(_) => NotDecoded::TooLarge {
            width: SIDE_MAX + 1,
            height: SIDE_MAX + 1,
        },
        _ => no,
    })?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(NotDecoded::TooLarge { width, height });
    }
    // Phone photos are stored sideways with an EXIF note saying which way is up.
    let orientation = decoder.orientation().ok();
    let mut picture = DynamicImage::from_decoder(decoder).map_err(|_| no)?;
    if let Some(orientation) = orientation {
        picture.apply_orientation(orientation);
    }
    if picture.width() == 0 || picture.height() == 0 {
        return Err(no);
    }
    Ok((format, picture))
}

/// Decodes a whole image, within the limits, and makes its thumbnail. `None` for
/// anything that is not a sound PNG, JPEG, GIF or WebP. Slow for a large image: call it
/// off the async runtime.
pub fn decode(bytes: &[u8]) -> Option<(ImageFormat, Image)> {
    let (format, picture) = picture(bytes, u64::MAX).ok()?;
    let (width, height) = (picture.width(), picture.height());
    let small = if width.max(height) > THUMBNAIL_MAX {
        picture.thumbnail(THUMBNAIL_MAX, THUMBNAIL_MAX)
    } else {
        picture
    };
    let (thumbnail, thumbnail_type) = encode(&small)?;
    Some((
        format,
        Image {
            width,
            height,
            thumbnail,
            thumbnail_type,
        },
    ))
}

/// Whether a JPEG's segments run from its start-of-image marker to its end-of-image one.
/// Segments are skipped by their length (an EXIF thumbnail inside one has markers of its
/// own); entropy-coded data runs to the next marker. Bytes after the end (a phone's
/// motion photo) do not matter.
fn jpeg_is_whole(bytes: &[u8]) -> bool {
    const SOI: u8 = 0xD8;
    const EOI: u8 = 0xD9;
    const SOS: u8 = 0xDA;
    if bytes.get(..2) != Some(&[0xFF, SOI]) {
        return false;
    }
    let mut at = 2;
    loop {
        // Markers may be padded with any number of 0xFF.
        while bytes.get(at) == Some(&0xFF) && bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let (Some(0xFF), Some(&marker)) = (bytes.get(at), bytes.get(at + 1)) else {
            return false;
        };
        at += 2;
        match marker {
            EOI => return true,
            // Markers without a length.
            0x01 | 0xD0..=0xD7 => continue,
            _ => {}
        }
        let (Some(&high), Some(&low)) = (bytes.get(at), bytes.get(at + 1)) else {
            return false;
        };
        at += usize::from(u16::from_be_bytes([high, low]));
        if marker == SOS {
            // Scan data: 0xFF is followed by 0x00 (a stuffed byte) or a restart marker.
            loop {
                match (bytes.get(at), bytes.get(at + 1)) {
                    (Some(0xFF), Some(0x00 | 0xD0..=0xD7)) => at += 2,
                    (Some(0xFF), Some(_)) => break,
                    (Some(_), _) => at += 1,
                    (None, _) => return false,
                }
            }
        }
    }
}

/// A thumbnail as PNG when it has transparency to keep, else as a JPEG (a tenth the size
/// for a photo).
pub fn encode(small: &DynamicImage) -> Option<(Vec<u8>, &'static str)> {
    let mut out = Cursor::new(Vec::new());
    if small.color().has_alpha() {
        small.write_to(&mut out, ImageFormat::Png).ok()?;
        Some((out.into_inner(), "image/png"))
    } else {
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 82);
        DynamicImage::ImageRgb8(small.to_rgb8())
            .write_with_encoder(encoder)
            .ok()?;
        Some((out.into_inner(), "image/jpeg"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        DynamicImage::new_rgba8(width, height)
            .write_to(&mut out, ImageFormat::Png)
            .unwrap();
        out.into_inner()
    }

    #[test]
    fn an_image_gets_its_size_and_a_thumbnail_of_at_most_400_px() {
        let (format, image) = decode(&png(1200, 300)).unwrap();
        assert_eq!(format, ImageFormat::Png);
        assert_eq!((image.width, image.height), (1200, 300));
        let thumb = image::load_from_memory(&image.thumbnail).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (400, 100));
        assert_eq!(image.thumbnail_type, "image/png");
    }

    #[test]
    fn what_does_not_decode_is_no_image() {
        let mut truncated = png(300, 300);
        truncated.truncate(truncated.len() / 2);
        assert!(decode(&truncated).is_none());
        assert!(decode(b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script>").is_none());
        assert_eq!(
            content_type(b"\x89PNG\r\n\x1a\n<html>", None),
            "application/octet-stream"
        );
    }

    #[test]
    fn a_cut_off_jpeg_is_no_image() {
        let mut out = Cursor::new(Vec::new());
        DynamicImage::new_rgb8(64, 64)
            .write_to(&mut out, ImageFormat::Jpeg)
            .unwrap();
        let mut jpeg = out.into_inner();
        assert!(jpeg_is_whole(&jpeg));
        assert!(decode(&jpeg).is_some());
        jpeg.extend_from_slice(b"appended video");
        assert!(jpeg_is_whole(&jpeg));
        for cut in [jpeg.len() - 16, jpeg.len() / 2, 200, 3] {
            assert!(!jpeg_is_whole(&jpeg[..cut]), "cut at {cut}");
        }
    }

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(content_type(b"%PDF-1.7\n", None), "application/pdf");
        assert_eq!(
            content_type("log line: é\n".as_bytes(), None),
            "text/plain; charset=utf-8"
        );
        assert_eq!(
            content_type(b"\x00\x01\x02binary", None),
            "application/octet-stream"
        );
        assert_eq!(content_type(b"", None), "application/octet-stream");
    }
}
