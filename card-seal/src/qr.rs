//! The seal as a QR code: alphanumeric mode (base45's alphabet is the QR
//! alphanumeric set), error-correction level M, at most version 10 (57 × 57
//! modules: 0.21 mm per module in a 12 mm square, printable at 300 dpi).

use qrcode::{EcLevel, QrCode, Version};

pub const MAX_QR_VERSION: i16 = 10;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooLarge;

/// The smallest level-M code for `text`, refused above version 10.
pub fn qr_code(text: &str) -> Result<QrCode, TooLarge> {
    let code =
        QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).map_err(|_| TooLarge)?;
    match code.version() {
        Version::Normal(v) if v <= MAX_QR_VERSION => Ok(code),
        _ => Err(TooLarge),
    }
}

/// The code's modules, row by row (`true` = dark), and its width in modules.
pub fn qr_modules(text: &str) -> Result<(usize, Vec<bool>), TooLarge> {
    let code = qr_code(text)?;
    let dark = code
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    Ok((code.width(), dark))
}

/// An SVG of the code with the standard four-module quiet zone, for the card face.
pub fn qr_svg(text: &str) -> Result<String, TooLarge> {
    let code = qr_code(text)?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .quiet_zone(true)
        .module_dimensions(4, 4)
        .build())
}
