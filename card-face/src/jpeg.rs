//! What the PDF needs to know of a JPEG to embed it as is (DCTDecode): its size and
//! colour components, from the first start-of-frame marker. The photo comes from
//! the station's records, already checked at import, but it is still read without
//! trusting a length.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JpegInfo {
    pub width: u16,
    pub height: u16,
    pub components: u8,
}

/// `None` for anything that is not a baseline/progressive JPEG with a sane frame.
pub fn info(bytes: &[u8]) -> Option<JpegInfo> {
    if bytes.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut at = 2;
    loop {
        // Markers may be padded with 0xFF fill bytes.
        while *bytes.get(at)? == 0xFF && *bytes.get(at + 1)? == 0xFF {
            at += 1;
        }
        if *bytes.get(at)? != 0xFF {
            return None;
        }
        let marker = *bytes.get(at + 1)?;
        let len = usize::from(u16::from_be_bytes([
            *bytes.get(at + 2)?,
            *bytes.get(at + 3)?,
        ]));
        if len < 2 {
            return None;
        }
        // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
        if (0xC0..=0xCF).contains(&marker) && ![0xC4, 0xC8, 0xCC].contains(&marker) {
            let frame = bytes.get(at + 4..at + 2 + len)?;
            let height = u16::from_be_bytes([*frame.get(1)?, *frame.get(2)?]);
            let width = u16::from_be_bytes([*frame.get(3)?, *frame.get(4)?]);
            let components = *frame.get(5)?;
            return (width > 0 && height > 0 && matches!(components, 1 | 3 | 4)).then_some(
                JpegInfo {
                    width,
                    height,
                    components,
                },
            );
        }
        if marker == 0xDA || marker == 0xD9 {
            return None;
        }
        at += 2 + len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_or_foreign_bytes_are_refused_without_panic() {
        assert_eq!(info(b""), None);
        assert_eq!(info(b"\x89PNG\r\n"), None);
        assert_eq!(info(&[0xFF, 0xD8, 0xFF, 0xC0, 0x00]), None);
        assert_eq!(info(&[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x01]), None);
        for n in 0..64 {
            let mut b = vec![
                0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 8, 0x01, 0xB9, 0x01, 0x66, 3,
            ];
            b.truncate(n.min(b.len()));
            let _ = info(&b);
        }
        assert_eq!(
            info(&[0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0B, 8, 0x01, 0xB9, 0x01, 0x66, 3, 0, 0, 0]),
            Some(JpegInfo {
                width: 0x166,
                height: 0x1B9,
                components: 3
            })
        );
    }
}
