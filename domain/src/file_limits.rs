//! Limits on uploaded archives, checked before anything is allocated for their
//! contents: a roster xlsx (a zip of XML parts) and a zip of photos.
//!
//! Why: calamine allocates a sheet as rows × columns of its used range, so a 2 KB
//! file with cells at A1 and XFD1048576 asks for 17 billion cells and the process
//! aborts; a zip's declared sizes can lie, and a few kilobytes can inflate to
//! gigabytes. [`check_xlsx`] therefore opens the zip itself and walks every part as
//! calamine would read it (the same quick-xml settings, the same cell positions:
//! `r` attributes, or the running row/column when they are missing), with every
//! read capped, and refuses the file when a limit below is exceeded. Only then is
//! the file handed to calamine. [`PhotoBudget`] keeps the running totals for a
//! photo zip, whose entries are read with a cap each as well.
//!
//! Each refusal is a [`FileLimit`]: a Chinese message (`Display`) and a stable
//! code ([`FileLimit::code`]).

use std::io::{Cursor, Read};

use quick_xml::events::Event;
use serde::{Deserialize, Serialize};

/// Entries in one zip (an xlsx has about a dozen).
pub const MAX_ZIP_ENTRIES: usize = 1_000;
/// Sheets in a workbook (the roster template has three).
pub const MAX_SHEETS: usize = 16;
/// Last row of a sheet's used range (rows are counted from row 1).
pub const MAX_ROWS: u32 = 20_000;
/// Last column of a sheet's used range (the roster has 20 columns; 256 = `IV`).
pub const MAX_COLUMNS: u32 = 256;
/// Cells in all sheets together.
pub const MAX_CELLS: u64 = 1_000_000;
/// Entries of the shared-strings table.
pub const MAX_SHARED_STRINGS: u64 = 400_000;
/// Uncompressed size of the shared-strings part.
pub const MAX_SHARED_STRINGS_BYTES: u64 = 16 * MIB;
/// Uncompressed size of any one part of an xlsx.
pub const MAX_XLSX_PART_BYTES: u64 = 32 * MIB;
/// Uncompressed size of all parts of an xlsx together.
pub const MAX_XLSX_TOTAL_BYTES: u64 = 96 * MIB;
/// Files in a photo zip.
pub const MAX_PHOTO_ENTRIES: usize = 10_000;
/// Uncompressed size of all photos of one import together.
pub const MAX_PHOTOS_TOTAL_BYTES: u64 = 256 * MIB;

const MIB: u64 = 1024 * 1024;

/// Why an uploaded file is refused before it is read. `Display` is the message for
/// people; [`FileLimit::code`] the stable name for programs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "limit", rename_all = "snake_case")]
pub enum FileLimit {
    #[error("Excel文件包含的部件过多（{entries} 个，最多 {max} 个），不是正常的名单文件")]
    XlsxTooManyParts { entries: usize, max: usize },
    #[error("Excel文件中的“{part}”解压后超过 {max_mib} MB，不是正常的名单文件")]
    XlsxPartTooLarge { part: String, max_mib: u64 },
    #[error("Excel文件解压后超过 {max_mib} MB，请拆分为多个文件后导入")]
    XlsxTooLarge { max_mib: u64 },
    #[error("Excel文件的工作表过多（{sheets} 个，最多 {max} 个）")]
    TooManySheets { sheets: usize, max: usize },
    #[error(
        "工作表的使用范围过大（到 {last_cell}；最多 {max_rows} 行、{max_columns} 列）：请删除名单以外多余的行和列后重新导入"
    )]
    RangeTooLarge {
        last_cell: String,
        max_rows: u32,
        max_columns: u32,
    },
    #[error("Excel文件的单元格过多（超过 {max} 个），请拆分为多个文件后导入")]
    TooManyCells { max: u64 },
    #[error("Excel文件的文字表（共享字符串）过大（最多 {max} 条、{max_mib} MB）")]
    SharedStringsTooLarge { max: u64, max_mib: u64 },
    #[error("Excel文件中的单元格位置“{reference}”无法识别")]
    BadCellReference { reference: String },
    #[error("照片压缩包中的文件过多（{entries} 个，最多 {max} 个）")]
    PhotosTooManyEntries { entries: usize, max: usize },
    #[error("照片压缩包解压后超过 {max_mib} MB，请分批导入")]
    PhotosTooLarge { max_mib: u64 },
}

impl FileLimit {
    /// The stable snake_case name of the refusal.
    pub fn code(&self) -> &'static str {
        match self {
            FileLimit::XlsxTooManyParts { .. } => "xlsx_too_many_parts",
            FileLimit::XlsxPartTooLarge { .. } => "xlsx_part_too_large",
            FileLimit::XlsxTooLarge { .. } => "xlsx_too_large",
            FileLimit::TooManySheets { .. } => "xlsx_too_many_sheets",
            FileLimit::RangeTooLarge { .. } => "xlsx_range_too_large",
            FileLimit::TooManyCells { .. } => "xlsx_too_many_cells",
            FileLimit::SharedStringsTooLarge { .. } => "xlsx_shared_strings_too_large",
            FileLimit::BadCellReference { .. } => "xlsx_bad_cell_reference",
            FileLimit::PhotosTooManyEntries { .. } => "photos_too_many_entries",
            FileLimit::PhotosTooLarge { .. } => "photos_too_large",
        }
    }
}

/// A cell position, 0-based, from an A1 reference. `None` when it is not a plain
/// reference of at most 3 letters and 7 digits (calamine's own parser would
/// overflow on longer ones).
fn parse_cell(reference: &[u8]) -> Option<(u32, u32)> {
    let letters = reference
        .iter()
        .take_while(|b| b.is_ascii_alphabetic())
        .count();
    let digits = &reference[letters..];
    if !(1..=3).contains(&letters)
        || !(1..=7).contains(&digits.len())
        || !digits.iter().all(u8::is_ascii_digit)
    {
        return None;
    }
    let col = reference[..letters].iter().fold(0u32, |acc, b| {
        acc * 26 + u32::from(b.to_ascii_uppercase() - b'A') + 1
    });
    let row = digits
        .iter()
        .fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'));
    Some((row.saturating_sub(1), col - 1))
}

/// A row number (`<row r="12">`), 0-based.
fn parse_row(reference: &[u8]) -> Option<u32> {
    if !(1..=7).contains(&reference.len()) || !reference.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let row = reference
        .iter()
        .fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'));
    Some(row.saturating_sub(1))
}

fn cell_name(row: u32, col: u32) -> String {
    let mut letters = Vec::new();
    let mut c = col + 1;
    while c > 0 {
        let rem = (c - 1) % 26;
        letters.push(char::from(b'A' + rem as u8));
        c = (c - 1) / 26;
    }
    letters.iter().rev().collect::<String>() + &(u64::from(row) + 1).to_string()
}

fn range_too_large(row: u32, col: u32) -> FileLimit {
    FileLimit::RangeTooLarge {
        last_cell: cell_name(row, col),
        max_rows: MAX_ROWS,
        max_columns: MAX_COLUMNS,
    }
}

fn check_position(row: u32, col: u32) -> Result<(), FileLimit> {
    if row >= MAX_ROWS || col >= MAX_COLUMNS {
        return Err(range_too_large(row, col));
    }
    Ok(())
}

/// The raw value of attribute `key` (no namespace prefix, as calamine matches it).
fn attr(e: &quick_xml::events::BytesStart<'_>, key: &str) -> Result<Option<String>, FileLimit> {
    for a in e.attributes().with_checks(false) {
        match a {
            Ok(a) if a.key.as_ref() == key => return Ok(Some(a.value.into_owned())),
            Ok(_) => {}
            // calamine stops at the same malformed attribute.
            Err(_) => return Ok(None),
        }
    }
    Ok(None)
}

/// Counts over the whole workbook.
#[derive(Default)]
struct Totals {
    sheets_declared: usize,
    worksheets: usize,
    cells: u64,
    shared_strings: u64,
}

/// Reads one part as calamine's XML reader would, counting what it holds.
/// Returns whether the part is a shared-strings table.
fn scan_part(reader: impl Read, totals: &mut Totals) -> Result<bool, FileLimit> {
    let mut xml = quick_xml::Reader::from_reader(std::io::BufReader::new(reader));
    let config = xml.config_mut();
    config.check_end_names = false;
    config.trim_text(false);
    config.check_comments = false;
    config.expand_empty_elements = true;
    let mut buf = Vec::with_capacity(1024);
    let (mut row, mut col) = (0u32, 0u32);
    let mut in_sheet_data = false;
    let mut shared_strings = false;
    loop {
        buf.clear();
        let event = match xml.read_event_into(&mut buf) {
            Ok(Event::Eof) | Err(_) => break,
            Ok(event) => event,
        };
        match event {
            Event::Start(e) => match e.local_name().as_ref() {
                "sheet" => totals.sheets_declared += 1,
                "sst" => shared_strings = true,
                "si" => {
                    totals.shared_strings += 1;
                    if totals.shared_strings > MAX_SHARED_STRINGS {
                        return Err(shared_strings_too_large());
                    }
                }
                "dimension" => {
                    if let Some(r) = attr(&e, "ref")? {
                        // "A1" or "A1:XFD1048576": every corner within the limits.
                        for corner in r.as_bytes().split(|b| *b == b':') {
                            let (r, c) = parse_cell(corner).ok_or_else(|| bad_ref(r.as_bytes()))?;
                            check_position(r, c)?;
                        }
                    }
                }
                "sheetData" => {
                    in_sheet_data = true;
                    totals.worksheets += 1;
                }
                "row" if in_sheet_data => {
                    if let Some(r) = attr(&e, "r")? {
                        row = parse_row(r.as_bytes()).ok_or_else(|| bad_ref(r.as_bytes()))?;
                    }
                    check_position(row, 0)?;
                }
                "c" if in_sheet_data => {
                    if let Some(r) = attr(&e, "r")? {
                        (row, col) =
                            parse_cell(r.as_bytes()).ok_or_else(|| bad_ref(r.as_bytes()))?;
                    }
                    check_position(row, col)?;
                    totals.cells += 1;
                    if totals.cells > MAX_CELLS {
                        return Err(FileLimit::TooManyCells { max: MAX_CELLS });
                    }
                    // The next cell without a position follows this one.
                    col = col.saturating_add(1);
                }
                _ => {}
            },
            Event::End(e) => match e.local_name().as_ref() {
                "row" if in_sheet_data => {
                    row = row.saturating_add(1);
                    col = 0;
                }
                "sheetData" => in_sheet_data = false,
                _ => {}
            },
            _ => {}
        }
    }
    Ok(shared_strings)
}

fn bad_ref(reference: &[u8]) -> FileLimit {
    FileLimit::BadCellReference {
        reference: String::from_utf8_lossy(&reference[..reference.len().min(40)]).into_owned(),
    }
}

fn shared_strings_too_large() -> FileLimit {
    FileLimit::SharedStringsTooLarge {
        max: MAX_SHARED_STRINGS,
        max_mib: MAX_SHARED_STRINGS_BYTES / MIB,
    }
}

/// Counts the bytes read through it.
struct Counted<'c, R> {
    inner: R,
    count: &'c mut u64,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        *self.count += n as u64;
        Ok(n)
    }
}

/// Checks an xlsx against the limits above without allocating for its contents.
/// A file that is not a zip at all passes (calamine then says it cannot read it);
/// parts that cannot be decompressed are skipped (calamine cannot read them either).
pub fn check_xlsx(xlsx: &[u8]) -> Result<(), FileLimit> {
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(xlsx)) else {
        return Ok(());
    };
    if zip.len() > MAX_ZIP_ENTRIES {
        return Err(FileLimit::XlsxTooManyParts {
            entries: zip.len(),
            max: MAX_ZIP_ENTRIES,
        });
    }
    let mut totals = Totals::default();
    let mut total_bytes = 0u64;
    for i in 0..zip.len() {
        let Ok(part) = zip.by_index(i) else {
            continue;
        };
        let name = part.name().unwrap_or_default().into_owned();
        let too_large = || FileLimit::XlsxPartTooLarge {
            part: name.chars().take(80).collect(),
            max_mib: MAX_XLSX_PART_BYTES / MIB,
        };
        // Declared sizes first (cheap), then the bytes actually inflated, capped:
        // the declared size can lie.
        if part.size() > MAX_XLSX_PART_BYTES {
            return Err(too_large());
        }
        let budget = MAX_XLSX_PART_BYTES.min(MAX_XLSX_TOTAL_BYTES - total_bytes);
        let mut read = 0u64;
        let mut capped = Counted {
            inner: part.take(budget + 1),
            count: &mut read,
        };
        let shared_strings = scan_part(&mut capped, &mut totals)?;
        // What the scanner left unread still counts (calamine may read it).
        let _ = std::io::copy(&mut capped, &mut std::io::sink());
        if read > MAX_XLSX_PART_BYTES {
            return Err(too_large());
        }
        total_bytes += read;
        if total_bytes > MAX_XLSX_TOTAL_BYTES {
            return Err(FileLimit::XlsxTooLarge {
                max_mib: MAX_XLSX_TOTAL_BYTES / MIB,
            });
        }
        if shared_strings && read > MAX_SHARED_STRINGS_BYTES {
            return Err(shared_strings_too_large());
        }
    }
    let sheets = totals.sheets_declared.max(totals.worksheets);
    if sheets > MAX_SHEETS {
        return Err(FileLimit::TooManySheets {
            sheets,
            max: MAX_SHEETS,
        });
    }
    Ok(())
}

/// Running totals while a photo zip is read: entries and inflated bytes.
pub(crate) struct PhotoBudget {
    left: u64,
}

impl PhotoBudget {
    /// Refuses a zip with too many entries, or whose declared sizes already add up
    /// to more than the limit.
    pub(crate) fn for_zip<R: Read + std::io::Seek>(
        zip: &mut zip::ZipArchive<R>,
    ) -> Result<Self, FileLimit> {
        if zip.len() > MAX_PHOTO_ENTRIES {
            return Err(FileLimit::PhotosTooManyEntries {
                entries: zip.len(),
                max: MAX_PHOTO_ENTRIES,
            });
        }
        let declared = (0..zip.len())
            .filter_map(|i| zip.by_index_raw(i).ok().map(|f| f.size()))
            .fold(0u64, u64::saturating_add);
        if declared > MAX_PHOTOS_TOTAL_BYTES {
            return Err(Self::too_large());
        }
        Ok(PhotoBudget {
            left: MAX_PHOTOS_TOTAL_BYTES,
        })
    }

    fn too_large() -> FileLimit {
        FileLimit::PhotosTooLarge {
            max_mib: MAX_PHOTOS_TOTAL_BYTES / MIB,
        }
    }

    /// How many bytes to read of the next entry: at most `per_entry`, and at most
    /// one byte past what is left, so that going over shows in [`Self::spend`].
    pub(crate) fn cap(&self, per_entry: u64) -> u64 {
        per_entry.min(self.left.saturating_add(1))
    }

    /// Counts `read` bytes actually inflated; refuses once the total is over.
    pub(crate) fn spend(&mut self, read: u64) -> Result<(), FileLimit> {
        self.left = self.left.checked_sub(read).ok_or_else(Self::too_large)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_references() {
        assert_eq!(parse_cell(b"A1"), Some((0, 0)));
        assert_eq!(parse_cell(b"t20"), Some((19, 19)));
        assert_eq!(parse_cell(b"XFD1048576"), Some((1_048_575, 16_383)));
        assert_eq!(parse_cell(b"AAAA1"), None);
        assert_eq!(parse_cell(b"A12345678"), None);
        assert_eq!(parse_cell(b"A"), None);
        assert_eq!(parse_cell(b"$A$1"), None);
        assert_eq!(cell_name(1_048_575, 16_383), "XFD1048576");
        assert_eq!(cell_name(0, 26), "AA1");
    }

    /// The photos' total is counted on bytes actually inflated, whatever the zip
    /// declared: reads are capped one byte past what is left, and the total may
    /// reach the limit but not pass it.
    #[test]
    fn the_photo_budget_counts_what_is_inflated_and_stops_at_the_limit() {
        let mut budget = PhotoBudget {
            left: MAX_PHOTOS_TOTAL_BYTES,
        };
        assert_eq!(budget.cap(2 * MIB), 2 * MIB);
        assert!(budget.spend(MAX_PHOTOS_TOTAL_BYTES - 10).is_ok());
        // Ten bytes left: the next entry is read up to eleven, so going over shows.
        assert_eq!(budget.cap(2 * MIB), 11);
        assert!(budget.spend(10).is_ok());
        assert!(matches!(
            budget.spend(1),
            Err(FileLimit::PhotosTooLarge { max_mib: 256 })
        ));
    }
}
