//! Files for upload tests: images made on the spot, broken ones, and noise.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat};

pub fn encoded(picture: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    picture.write_to(&mut out, format).expect("encodes");
    out.into_inner()
}

/// A `width` × `height` photo-like PNG (a gradient, so it is not all one colour).
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    encoded(DynamicImage::ImageRgb8(picture), ImageFormat::Png)
}

pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, 64, (y % 256) as u8])
    });
    encoded(DynamicImage::ImageRgb8(picture), ImageFormat::Jpeg)
}

/// Bytes that no format recognises and that are not text.
pub fn noise(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// A PNG whose header claims `width` × `height` around a 1 × 1 image's data: a
/// decompression bomb as a decoder first sees it.
pub fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = png(1, 1);
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A one-frame GIF whose logical screen claims `width` × `height` (at most 65,535).
pub fn gif_claiming(width: u16, height: u16) -> Vec<u8> {
    let mut bytes = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut bytes);
        let frame = image::Frame::new(image::RgbaImage::from_pixel(
            2,
            2,
            image::Rgba([9, 9, 9, 255]),
        ));
        encoder.encode_frame(frame).expect("a GIF");
    }
    bytes[6..8].copy_from_slice(&width.to_le_bytes());
    bytes[8..10].copy_from_slice(&height.to_le_bytes());
    bytes
}
