//! The printed card face (issue #16, docs/CARD-FACE.md): a CR80 card's front and
//! back laid out from the certificate's record, with the photo, the printed facts and
//! the signed QR of `card-seal`, rendered to PDF with the CJK font embedded (subset:
//! a face is some 20 KB) so that the printer never substitutes a font.

mod jpeg;

use chrono::{Datelike, NaiveDate};
use ecard_domain::codes::CertificateKind;
use printpdf::{
    Color, ColorBits, ColorSpace, Image, ImageFilter, ImageTransform, ImageXObject,
    IndirectFontRef, Mm, PdfDocument, PdfLayerReference, Px, Rect, Rgb,
};
use thiserror::Error;

/// ISO/IEC 7810 ID-1 (CR80).
pub const CARD_WIDTH_MM: f32 = 85.6;
pub const CARD_HEIGHT_MM: f32 = 54.0;
/// The QR code's side on the back, quiet zone excluded (docs/SEAL.md §4).
pub const QR_SIDE_MM: f32 = 12.0;
/// Debian's fonts-wqy-microhei, installed with ecardd; never fetched at run time.
pub const DEFAULT_FONT: &str = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc";

/// Everything printed on one card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardFace {
    pub kind: CertificateKind,
    pub number: String,
    pub name: String,
    pub unit: String,
    /// 执法岗位 as words (not post codes).
    pub posts: String,
    pub category: String,
    pub area: String,
    pub issuer: String,
    pub issued_on: NaiveDate,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    /// The chip's photo (JPEG), printed as is.
    pub photo_jpeg: Vec<u8>,
    /// The seal's text (`EC1:…`), drawn as the QR code.
    pub seal: String,
}

#[derive(Debug, Error)]
pub enum FaceError {
    #[error("字体文件无法使用：{0}")]
    Font(String),
    #[error("证件 {0} 的照片不是可打印的 JPEG")]
    Photo(String),
    #[error("证件 {0} 的二维码超出容量")]
    Seal(String),
    #[error("生成 PDF 失败：{0}")]
    Pdf(String),
    #[error("没有要打印的证件")]
    Empty,
}

fn date_zh(d: NaiveDate) -> String {
    format!("{}年{:02}月{:02}日", d.year(), d.month(), d.day())
}

/// One PDF, two pages (front, back) per card, in the order given: what a duplex
/// card printer takes as one job.
pub fn render(faces: &[CardFace], font: &[u8]) -> Result<Vec<u8>, FaceError> {
    let first = faces.first().ok_or(FaceError::Empty)?;
    let (doc, page, layer) =
        PdfDocument::new("行政执法证", Mm(CARD_WIDTH_MM), Mm(CARD_HEIGHT_MM), "正面");
    // The document's dates are the card's issue date: no wall clock inside
    // (printpdf would otherwise stamp the time of rendering).
    let stamp = pdf_date(first.issued_on);
    let doc = doc
        .with_creation_date(stamp)
        .with_mod_date(stamp)
        .with_metadata_date(stamp)
        .with_document_id(first.number.clone())
        .with_producer("ecard");
    let font = doc
        .add_external_font_with_subsetting(font, true)
        .map_err(|e| FaceError::Font(e.to_string()))?;
    for (i, face) in faces.iter().enumerate() {
        let front = if i == 0 {
            doc.get_page(page).get_layer(layer)
        } else {
            let (p, l) = doc.add_page(Mm(CARD_WIDTH_MM), Mm(CARD_HEIGHT_MM), "正面");
            doc.get_page(p).get_layer(l)
        };
        draw_front(&front, face, &font)?;
        let (p, l) = doc.add_page(Mm(CARD_WIDTH_MM), Mm(CARD_HEIGHT_MM), "背面");
        draw_back(&doc.get_page(p).get_layer(l), face, &font)?;
    }
    doc.save_to_bytes()
        .map_err(|e| FaceError::Pdf(e.to_string()))
}

fn pdf_date(d: NaiveDate) -> printpdf::OffsetDateTime {
    let month =
        time::Month::try_from(u8::try_from(d.month()).unwrap_or(1)).unwrap_or(time::Month::January);
    time::Date::from_calendar_date(d.year(), month, u8::try_from(d.day()).unwrap_or(1))
        .map(|date| date.midnight().assume_utc())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

const BLACK: f32 = 0.0;

fn text(layer: &PdfLayerReference, font: &IndirectFontRef, s: &str, pt: f32, x: f32, y: f32) {
    layer.use_text(s, pt, Mm(x), Mm(y), font);
}

/// Splits `s` into lines of at most `width` columns (a Han character is two, ASCII one).
fn wrap(s: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    let mut used = 0;
    for c in s.chars() {
        let w = if c.is_ascii() { 1 } else { 2 };
        if used + w > width {
            lines.push(String::new());
            used = 0;
        }
        if let Some(line) = lines.last_mut() {
            line.push(c);
        }
        used += w;
    }
    lines
}

fn draw_front(
    layer: &PdfLayerReference,
    face: &CardFace,
    font: &IndirectFontRef,
) -> Result<(), FaceError> {
    layer.set_fill_color(Color::Rgb(Rgb::new(BLACK, BLACK, BLACK, None)));
    text(layer, font, face.kind.name_zh(), 12.0, 28.0, 46.0);

    // Photo: 22 × 28 mm, the 358 × 441 proportion of the guides' photos.
    let info = jpeg::info(&face.photo_jpeg).ok_or_else(|| FaceError::Photo(face.number.clone()))?;
    let (photo_w, photo_h) = (22.0_f32, 28.0_f32);
    let dpi_x = f32::from(info.width) * 25.4 / photo_w;
    let image = Image::from(ImageXObject {
        width: Px(usize::from(info.width)),
        height: Px(usize::from(info.height)),
        color_space: match info.components {
            1 => ColorSpace::Greyscale,
            4 => ColorSpace::Cmyk,
            _ => ColorSpace::Rgb,
        },
        bits_per_component: ColorBits::Bit8,
        interpolate: true,
        image_data: face.photo_jpeg.clone(),
        image_filter: Some(ImageFilter::DCT),
        smask: None,
        clipping_bbox: None,
    });
    image.add_to_layer(
        layer.clone(),
        ImageTransform {
            translate_x: Some(Mm(5.0)),
            translate_y: Some(Mm(10.0)),
            dpi: Some(dpi_x),
            scale_y: Some(photo_h / (f32::from(info.height) * 25.4 / dpi_x)),
            ..ImageTransform::default()
        },
    );

    let x = 31.0;
    let mut y = 39.0;
    let mut line = |label: &str, value: &str| {
        for (i, part) in wrap(&format!("{label}{value}"), 40).iter().enumerate() {
            let indent = if i == 0 { 0.0 } else { 11.0 };
            text(layer, font, part, 6.5, x + indent, y);
            y -= 3.6;
        }
    };
    line("姓　　名：", &face.name);
    line("证件编号：", &face.number);
    line("执法单位：", &face.unit);
    line("执法类别：", &face.category);
    line("执法区域：", &face.area);
    line(
        "有 效 期：",
        &format!(
            "{}至{}",
            date_zh(face.valid_from),
            date_zh(face.valid_until)
        ),
    );
    text(
        layer,
        font,
        &format!("发证机关：{}", face.issuer),
        6.0,
        5.0,
        4.5,
    );
    Ok(())
}

fn draw_back(
    layer: &PdfLayerReference,
    face: &CardFace,
    font: &IndirectFontRef,
) -> Result<(), FaceError> {
    layer.set_fill_color(Color::Rgb(Rgb::new(BLACK, BLACK, BLACK, None)));
    let mut y = 46.0;
    for (i, part) in wrap(&format!("执法岗位：{}", face.posts), 44)
        .iter()
        .enumerate()
    {
        text(layer, font, part, 6.5, if i == 0 { 5.0 } else { 16.0 }, y);
        y -= 3.6;
    }
    y -= 1.5;
    for note in [
        "持证须知",
        "一、本证是持证人从事行政执法活动的身份证明。",
        "二、本证仅限本人使用，不得转借、涂改。",
        "三、本证须按规定参加年度审验；遗失应及时声明作废并补领。",
    ] {
        text(layer, font, note, 5.5, 5.0, y);
        y -= 3.2;
    }
    text(
        layer,
        font,
        &format!("制证日期：{}", date_zh(face.issued_on)),
        5.5,
        5.0,
        5.0,
    );

    // The QR at the bottom right, 12 mm, with its quiet zone inside the card.
    let (width, dark) =
        card_seal::qr_modules(&face.seal).map_err(|_| FaceError::Seal(face.number.clone()))?;
    let module = QR_SIDE_MM / width as f32;
    let (left, bottom) = (CARD_WIDTH_MM - 5.0 - QR_SIDE_MM, 5.0);
    // One rectangle per horizontal run of dark modules: no hairline seams between
    // neighbouring modules when a rasterizer anti-aliases their edges.
    for row in 0..width {
        let y0 = bottom + (width - 1 - row) as f32 * module;
        let mut col = 0;
        while col < width {
            if !dark[row * width + col] {
                col += 1;
                continue;
            }
            let start = col;
            while col < width && dark[row * width + col] {
                col += 1;
            }
            layer.add_rect(Rect::new(
                Mm(left + start as f32 * module),
                Mm(y0),
                Mm(left + col as f32 * module),
                Mm(y0 + module),
            ));
        }
    }
    text(
        layer,
        font,
        "扫码核验",
        5.0,
        left + 2.5,
        bottom + QR_SIDE_MM + 1.2,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrapping_counts_han_characters_as_two_columns() {
        assert_eq!(wrap("执法单位：成都市", 10), vec!["执法单位：", "成都市"]);
        assert_eq!(wrap("AB12", 3), vec!["AB1", "2"]);
        assert_eq!(wrap("", 5), vec![""]);
    }
}
