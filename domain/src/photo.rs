//! Holder photos: checks of the uploaded file and the downscaled chip copy.
//!
//! Upload rules (seeds 000, 001, 003): JPG, 100 KB ≤ size ≤ 1 MB (KB = 1024
//! bytes here), at least 402×461 px (34×39 mm at 300 dpi), named
//! `<citizen ID>.jpg` for batch upload. [`check_photo`] reports every
//! violation, not just the first. The white background cannot be checked
//! reliably by code and is left to the reviewer.
//!
//! On the chip the photo is a JPEG of at most 16 KiB ([`downscale_for_chip`]),
//! aiming at 8 KiB because every byte crosses the card contacts.

use std::io::Cursor;

use chrono::NaiveDate;
use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, GenericImageView, ImageFormat};
use serde::{Deserialize, Serialize};

use crate::citizen_id::{CitizenId, CitizenIdError};

/// Hard limit of EF.PHOTO.
pub const CHIP_PHOTO_MAX_BYTES: usize = 16 * 1024;
/// What [`downscale_for_chip`] aims for.
pub const CHIP_PHOTO_TARGET_BYTES: usize = 8 * 1024;
/// Smallest height that keeps a face legible on the chip copy.
pub const CHIP_PHOTO_MIN_HEIGHT: u32 = 150;

/// The largest side a photo from outside the station may declare: it bounds what
/// decoding it allocates (an upload is 402×461 and up; a hostile header can claim
/// 65535×65535, 12 GiB of pixels).
pub const MAX_PHOTO_SIDE: u32 = 4096;

/// Configurable upload limits; `Default` is the rule in DOMAIN.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoRules {
    pub min_bytes: usize,
    pub max_bytes: usize,
    pub min_width: u32,
    pub min_height: u32,
}

impl Default for PhotoRules {
    fn default() -> Self {
        PhotoRules {
            min_bytes: 100 * 1024,
            max_bytes: 1024 * 1024,
            min_width: 402,
            min_height: 461,
        }
    }
}

/// One thing wrong with an uploaded photo. `Display` is the Chinese message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhotoViolation {
    #[error("照片文件名“{name}”应为“身份证号码.jpg”")]
    BadFileName { name: String },
    #[error("照片文件名中的身份证号码无效：{0}")]
    BadIdInFileName(CitizenIdError),
    #[error("照片不是JPG格式")]
    NotJpeg,
    #[error("照片无法解码，文件可能已损坏")]
    Undecodable,
    #[error("照片太小：{bytes}字节，应不小于{min}字节（{}KB）", .min.div_ceil(1024))]
    TooFewBytes { bytes: usize, min: usize },
    #[error("照片太大：{bytes}字节，应不大于{max}字节（{}KB）", .max.div_ceil(1024))]
    TooManyBytes { bytes: usize, max: usize },
    #[error("照片尺寸过大：{width}×{height}，每边应不超过{max}")]
    TooLarge { width: u32, height: u32, max: u32 },
    #[error("照片像素不足：{width}×{height}，应至少{min_width}×{min_height}")]
    TooFewPixels {
        width: u32,
        height: u32,
        min_width: u32,
        min_height: u32,
    },
}

/// Errors of [`downscale_for_chip`]. `Display` is the Chinese message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhotoError {
    #[error("照片不是可解码的JPG图片")]
    Undecodable,
    #[error("照片无法压缩到芯片允许的{max}字节以内")]
    TooLargeForChip { max: usize },
    #[error("照片编码失败")]
    Encode,
}

/// A photo that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedPhoto {
    pub citizen_id: CitizenId,
    pub width: u32,
    pub height: u32,
}

/// True when the bytes start like a JPEG (SOI marker followed by a marker).
pub fn is_jpeg(bytes: &[u8]) -> bool {
    bytes.len() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF
}

/// Checks a photo that arrives already reviewed (the registry's issuance order)
/// before it is stored or served: a JPEG by its bytes, at most `max_bytes`, its
/// declared sides at most [`MAX_PHOTO_SIDE`] (read from the header before any pixel
/// is decoded), and the whole image decodes. The upload rules (size floor, pixel
/// minimum, file name) were the uploading station's; this is about hostile bytes.
/// Returns the width and height.
pub fn check_jpeg(bytes: &[u8], max_bytes: usize) -> Result<(u32, u32), PhotoViolation> {
    if bytes.len() > max_bytes {
        return Err(PhotoViolation::TooManyBytes {
            bytes: bytes.len(),
            max: max_bytes,
        });
    }
    if !is_jpeg(bytes) {
        return Err(PhotoViolation::NotJpeg);
    }
    // A whole JPEG ends with EOI (some writers pad after it with zeros); decoders
    // fill a truncated one with grey rather than fail.
    let end = bytes.iter().rposition(|b| *b != 0).unwrap_or(0);
    if end < 1 || bytes[end - 1..=end] != [0xFF, 0xD9] {
        return Err(PhotoViolation::Undecodable);
    }
    let reader = image::ImageReader::with_format(Cursor::new(bytes), ImageFormat::Jpeg);
    let (width, height) = reader
        .into_dimensions()
        .map_err(|_| PhotoViolation::Undecodable)?;
    if width > MAX_PHOTO_SIDE || height > MAX_PHOTO_SIDE {
        return Err(PhotoViolation::TooLarge {
            width,
            height,
            max: MAX_PHOTO_SIDE,
        });
    }
    image::load_from_memory_with_format(bytes, ImageFormat::Jpeg)
        .map_err(|_| PhotoViolation::Undecodable)?;
    Ok((width, height))
}

/// The citizen ID in a file name `<ID>.jpg` (`.jpg`/`.jpeg`, any case; a
/// leading folder path inside a zip is ignored).
pub fn id_from_file_name(name: &str, today: NaiveDate) -> Result<CitizenId, PhotoViolation> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let lower = base.to_ascii_lowercase();
    let stem_len = if lower.ends_with(".jpg") {
        base.len() - 4
    } else if lower.ends_with(".jpeg") {
        base.len() - 5
    } else {
        return Err(PhotoViolation::BadFileName {
            name: base.to_string(),
        });
    };
    let stem = base.get(..stem_len).unwrap_or("");
    CitizenId::parse(stem, today).map_err(PhotoViolation::BadIdInFileName)
}

/// Checks an uploaded photo; returns every violation found.
pub fn check_photo(
    file_name: &str,
    bytes: &[u8],
    rules: &PhotoRules,
    today: NaiveDate,
) -> Result<CheckedPhoto, Vec<PhotoViolation>> {
    let mut v = Vec::new();
    let id = match id_from_file_name(file_name, today) {
        Ok(id) => Some(id),
        Err(e) => {
            v.push(e);
            None
        }
    };
    if bytes.len() < rules.min_bytes {
        v.push(PhotoViolation::TooFewBytes {
            bytes: bytes.len(),
            min: rules.min_bytes,
        });
    }
    if bytes.len() > rules.max_bytes {
        v.push(PhotoViolation::TooManyBytes {
            bytes: bytes.len(),
            max: rules.max_bytes,
        });
    }
    let mut dims = None;
    if !is_jpeg(bytes) {
        v.push(PhotoViolation::NotJpeg);
    } else {
        match image::load_from_memory_with_format(bytes, ImageFormat::Jpeg) {
            Ok(img) => {
                let (w, h) = img.dimensions();
                if w < rules.min_width || h < rules.min_height {
                    v.push(PhotoViolation::TooFewPixels {
                        width: w,
                        height: h,
                        min_width: rules.min_width,
                        min_height: rules.min_height,
                    });
                }
                dims = Some((w, h));
            }
            Err(_) => v.push(PhotoViolation::Undecodable),
        }
    }
    match (id, dims) {
        (Some(citizen_id), Some((width, height))) if v.is_empty() => Ok(CheckedPhoto {
            citizen_id,
            width,
            height,
        }),
        _ => Err(v),
    }
}

fn encode(img: &DynamicImage, quality: u8) -> Result<Vec<u8>, PhotoError> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(Cursor::new(&mut out), quality)
        .encode_image(img)
        .map_err(|_| PhotoError::Encode)?;
    Ok(out)
}

/// Downscales a JPEG for EF.PHOTO: at most [`CHIP_PHOTO_MAX_BYTES`], aiming at
/// [`CHIP_PHOTO_TARGET_BYTES`], aspect ratio kept, never below
/// [`CHIP_PHOTO_MIN_HEIGHT`] px tall (unless the source is smaller).
///
/// Strategy: start at 320 px tall; lower the JPEG quality step by step
/// (85 → 35); if the target is still missed, shrink the size by steps and
/// try again. The first encoding within the target wins; if none reaches it,
/// the best (largest height, then highest quality) encoding within the hard
/// limit is returned.
pub fn downscale_for_chip(jpeg: &[u8]) -> Result<Vec<u8>, PhotoError> {
    if !is_jpeg(jpeg) {
        return Err(PhotoError::Undecodable);
    }
    let src = image::load_from_memory_with_format(jpeg, ImageFormat::Jpeg)
        .map_err(|_| PhotoError::Undecodable)?;
    let src = DynamicImage::ImageRgb8(src.to_rgb8());
    let (w, h) = src.dimensions();
    if w == 0 || h == 0 {
        return Err(PhotoError::Undecodable);
    }
    let min_h = CHIP_PHOTO_MIN_HEIGHT.min(h);
    let mut fallback: Option<Vec<u8>> = None;
    for target_h in [320u32, 280, 240, 210, 180, 150] {
        let th = target_h.min(h).max(min_h);
        let tw = ((u64::from(w) * u64::from(th) + u64::from(h) / 2) / u64::from(h)).max(1) as u32;
        let small = if th == h {
            src.clone()
        } else {
            src.resize_exact(tw, th, FilterType::Triangle)
        };
        for quality in [85u8, 75, 65, 55, 45, 35] {
            let out = encode(&small, quality)?;
            if out.len() <= CHIP_PHOTO_TARGET_BYTES {
                return Ok(out);
            }
            if out.len() <= CHIP_PHOTO_MAX_BYTES && fallback.is_none() {
                fallback = Some(out);
            }
        }
    }
    fallback.ok_or(PhotoError::TooLargeForChip {
        max: CHIP_PHOTO_MAX_BYTES,
    })
}

/// Synthetic test portraits (white background, face ellipse, noise), so tests
/// and benchmarks never need binary fixtures. Public for other crates' tests.
pub mod synthetic {
    use super::*;
    use image::{Rgb, RgbImage};

    /// A portrait `w`×`h` px with pseudo-random noise of amplitude `noise`
    /// (0–255), encoded at JPEG `quality`. Deterministic for a given `seed`.
    pub fn portrait_jpeg(w: u32, h: u32, noise: u8, quality: u8, seed: u64) -> Vec<u8> {
        let mut state = seed | 1;
        let mut rnd = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let (cx, cy) = (w as f32 / 2.0, h as f32 * 0.42);
        let (rx, ry) = (w as f32 * 0.22, h as f32 * 0.27);
        let img = RgbImage::from_fn(w, h, |x, y| {
            let dx = (x as f32 - cx) / rx;
            let dy = (y as f32 - cy) / ry;
            let base: [f32; 3] = if dx * dx + dy * dy <= 1.0 {
                [224.0, 180.0, 150.0]
            } else if y as f32 > h as f32 * 0.72 {
                [30.0, 40.0, 90.0] // uniform
            } else {
                [250.0, 250.0, 250.0]
            };
            let n = if noise == 0 {
                0.0
            } else {
                (rnd() % (2 * u64::from(noise) + 1)) as f32 - f32::from(noise)
            };
            Rgb(base.map(|c| (c + n).clamp(0.0, 255.0) as u8))
        });
        let mut out = Vec::new();
        // Encoding an in-memory RGB image into a Vec cannot fail.
        let _ = JpegEncoder::new_with_quality(Cursor::new(&mut out), quality)
            .encode_image(&DynamicImage::ImageRgb8(img));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::synthetic::portrait_jpeg;
    use super::*;
    use crate::citizen_id::{first17, with_check_digit};

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 1).expect("d")
    }

    fn id() -> String {
        let birth = NaiveDate::from_ymd_opt(1988, 2, 29).expect("d");
        with_check_digit(&first17("510100", birth, 35)).expect("id")
    }

    fn good_photo() -> Vec<u8> {
        let p = portrait_jpeg(480, 560, 40, 90, 7);
        assert!(
            (100 * 1024..=1024 * 1024).contains(&p.len()),
            "synthetic photo size {} must be realistic",
            p.len()
        );
        p
    }

    #[test]
    fn good_photo_passes() {
        let name = format!("{}.jpg", id());
        let c = check_photo(&name, &good_photo(), &PhotoRules::default(), today()).expect("passes");
        assert_eq!(c.citizen_id.as_str(), id());
        assert_eq!((c.width, c.height), (480, 560));
        let upper = format!("{}.JPG", id());
        assert!(check_photo(&upper, &good_photo(), &PhotoRules::default(), today()).is_ok());
    }

    #[test]
    fn every_violation_reported_separately() {
        // Small, low-resolution, badly named.
        let tiny = portrait_jpeg(200, 230, 0, 80, 1);
        let v =
            check_photo("张三.jpg", &tiny, &PhotoRules::default(), today()).expect_err("must fail");
        assert_eq!(v.len(), 3, "{v:?}");
        assert!(matches!(v[0], PhotoViolation::BadIdInFileName(_)));
        assert!(matches!(v[1], PhotoViolation::TooFewBytes { .. }));
        assert!(matches!(
            v[2],
            PhotoViolation::TooFewPixels {
                width: 200,
                height: 230,
                ..
            }
        ));
    }

    #[test]
    fn png_and_wrong_extension_and_garbage_rejected() {
        let png = b"\x89PNG\r\n\x1a\n rest of file".to_vec();
        let v = check_photo(
            &format!("{}.png", id()),
            &png,
            &PhotoRules::default(),
            today(),
        )
        .expect_err("png");
        assert!(v.contains(&PhotoViolation::NotJpeg));
        assert!(v
            .iter()
            .any(|x| matches!(x, PhotoViolation::BadFileName { .. })));
        let mut garbage = vec![0xFF, 0xD8, 0xFF, 0xE0];
        garbage.resize(200 * 1024, 0x55);
        let v = check_photo(
            &format!("{}.jpg", id()),
            &garbage,
            &PhotoRules::default(),
            today(),
        )
        .expect_err("garbage");
        assert_eq!(v, vec![PhotoViolation::Undecodable]);
    }

    #[test]
    fn too_large_file_reported() {
        let big = portrait_jpeg(1600, 1900, 90, 100, 3);
        assert!(big.len() > 1024 * 1024, "{}", big.len());
        let v = check_photo(
            &format!("{}.jpg", id()),
            &big,
            &PhotoRules::default(),
            today(),
        )
        .expect_err("too big");
        assert!(
            matches!(v.as_slice(), [PhotoViolation::TooManyBytes { .. }]),
            "{v:?}"
        );
    }

    #[test]
    fn guide_sample_id_as_file_name_rejected() {
        let v = check_photo(
            "452122197502156642.jpg",
            &good_photo(),
            &PhotoRules::default(),
            today(),
        )
        .expect_err("checksum");
        assert!(matches!(
            v.as_slice(),
            [PhotoViolation::BadIdInFileName(
                CitizenIdError::Checksum { .. }
            )]
        ));
    }

    #[test]
    fn chip_copy_fits_keeps_aspect_and_stays_legible() {
        for (src, label) in [
            (good_photo(), "noisy"),
            (portrait_jpeg(600, 690, 8, 95, 11), "clean"),
            (portrait_jpeg(1200, 1380, 60, 95, 5), "large"),
        ] {
            let out = downscale_for_chip(&src).expect("downscale");
            assert!(out.len() <= CHIP_PHOTO_MAX_BYTES, "{label}: {}", out.len());
            let img =
                image::load_from_memory_with_format(&out, ImageFormat::Jpeg).expect("decodes");
            let (w, h) = img.dimensions();
            assert!(h >= CHIP_PHOTO_MIN_HEIGHT, "{label}: height {h}");
            let src_img = image::load_from_memory(&src).expect("src");
            let (sw, sh) = src_img.dimensions();
            let ratio = |a: u32, b: u32| a as f64 / b as f64;
            assert!(
                (ratio(w, h) - ratio(sw, sh)).abs() < 0.01,
                "{label}: aspect"
            );
        }
        let clean = downscale_for_chip(&portrait_jpeg(600, 690, 8, 95, 11)).expect("clean");
        assert!(
            clean.len() <= CHIP_PHOTO_TARGET_BYTES,
            "clean photo reaches the 8 KiB aim"
        );
    }

    #[test]
    fn downscale_rejects_non_jpeg() {
        assert_eq!(downscale_for_chip(b"GIF89a"), Err(PhotoError::Undecodable));
        assert_eq!(
            downscale_for_chip(&[0xFF, 0xD8, 0xFF, 0x00, 0x01]),
            Err(PhotoError::Undecodable)
        );
    }
}
