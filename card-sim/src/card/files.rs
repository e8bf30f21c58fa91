//! READ/UPDATE BINARY and READ RECORD/APPEND RECORD with the access conditions of
//! PROFILE.md §1.2.

use super::NativeCard;
use card_profile::apdu::{Command, Response, SHORT_MAX_NE};
use card_profile::profile::{FileId, LifeCycle, MAX_RECORDS, MAX_RECORD_LEN};
use card_profile::status::Status;

impl NativeCard {
    /// The file and offset a READ/UPDATE BINARY addresses: P1 = 8s → SFI s, offset P2
    /// (and s becomes the current EF); otherwise a 15-bit offset in the current EF.
    fn binary_target(&mut self, cmd: &Command) -> Result<(FileId, usize), Status> {
        let (file, offset) = if cmd.p1 & 0x80 != 0 {
            if cmd.p1 & 0x60 != 0 {
                return Err(Status::IncorrectP1P2);
            }
            let file = FileId::from_sfi(cmd.p1 & 0x1F).ok_or(Status::FileNotFound)?;
            self.volatile.current_ef = Some(file);
            (file, cmd.p2 as usize)
        } else {
            let file = self.volatile.current_ef.ok_or(Status::CommandNotAllowed)?;
            (file, u16::from_be_bytes([cmd.p1, cmd.p2]) as usize)
        };
        if file.is_record_file() {
            // A record file has no byte offsets.
            return Err(Status::CommandNotAllowed);
        }
        Ok((file, offset))
    }

    /// The record file a READ/APPEND RECORD addresses: SFI in P2 bits 8–4, 0 = current EF.
    fn record_target(&self, sfi: u8) -> Result<FileId, Status> {
        let file = if sfi == 0 {
            self.volatile.current_ef.ok_or(Status::CommandNotAllowed)?
        } else {
            FileId::from_sfi(sfi).ok_or(Status::FileNotFound)?
        };
        if !file.is_record_file() {
            return Err(Status::CommandNotAllowed);
        }
        Ok(file)
    }

    /// Write access (PROFILE.md §1.2 "write" column): the management key, then the
    /// life-cycle states in which the file may change.
    fn check_write(&self, file: FileId) -> Result<(), Status> {
        if !self.volatile.session {
            return Err(Status::SecurityStatusNotSatisfied);
        }
        let lcs = self.state.life_cycle;
        use LifeCycle::*;
        let allowed = match file {
            FileId::Ver => false,
            FileId::Holder | FileId::Photo | FileId::Cert | FileId::Sod => {
                matches!(lcs, Blank | Personalizing)
            }
            FileId::Status => matches!(lcs, Blank | Personalizing | Activated),
            FileId::Reviews => matches!(lcs, Personalizing | Activated),
        };
        if allowed {
            Ok(())
        } else {
            Err(Status::ConditionsNotSatisfied)
        }
    }

    pub(super) fn read_binary(&mut self, cmd: &Command) -> Result<Response, Status> {
        if !cmd.data.is_empty() {
            return Err(Status::WrongLength);
        }
        let (file, offset) = self.binary_target(cmd)?;
        let content = self.file(file);
        if offset > content.len() {
            return Err(Status::WrongP1P2);
        }
        let ne = cmd.ne.unwrap_or(SHORT_MAX_NE);
        let end = content.len().min(offset.saturating_add(ne));
        Ok(Response::ok(content[offset..end].to_vec()))
    }

    pub(super) fn update_binary(&mut self, cmd: &Command, torn: bool) -> Result<Response, Status> {
        if cmd.data.is_empty() {
            return Err(Status::WrongLength);
        }
        let (file, offset) = self.binary_target(cmd)?;
        self.check_write(file)?;
        let end = offset + cmd.data.len();
        if end > file.capacity() {
            return Err(Status::NotEnoughMemory);
        }
        // The life-cycle byte changes first, so a torn write is never "blank".
        self.leave_blank();
        let data = if torn {
            &cmd.data[..cmd.data.len() / 2]
        } else {
            &cmd.data[..]
        };
        let content = self.state.files.entry(file).or_default();
        let end = offset + data.len();
        if content.len() < end {
            // A gap before `offset` reads as zeros; the length is the highest offset written.
            content.resize(end, 0);
        }
        content[offset..end].copy_from_slice(data);
        Ok(Response::ok(Vec::new()))
    }

    pub(super) fn read_record(&mut self, cmd: &Command) -> Result<Response, Status> {
        if !cmd.data.is_empty() {
            return Err(Status::WrongLength);
        }
        // P2 low bits 100: "record number P1"; P1 = 0 (current record) is not supported.
        if cmd.p2 & 0x07 != 0x04 || cmd.p1 == 0 {
            return Err(Status::IncorrectP1P2);
        }
        self.record_target(cmd.p2 >> 3)?;
        let record = self
            .state
            .records
            .get(cmd.p1 as usize - 1)
            .ok_or(Status::RecordNotFound)?;
        Ok(Response::ok(record.clone()))
    }

    pub(super) fn append_record(&mut self, cmd: &Command, torn: bool) -> Result<Response, Status> {
        if cmd.p1 != 0 || cmd.p2 & 0x07 != 0 {
            return Err(Status::IncorrectP1P2);
        }
        let file = self.record_target(cmd.p2 >> 3)?;
        self.check_write(file)?;
        if cmd.data.is_empty() || cmd.data.len() > MAX_RECORD_LEN {
            return Err(Status::WrongLength);
        }
        if self.state.records.len() >= MAX_RECORDS {
            return Err(Status::NotEnoughMemory);
        }
        let record = if torn {
            &cmd.data[..cmd.data.len() / 2]
        } else {
            &cmd.data[..]
        };
        if !record.is_empty() {
            self.state.records.push(record.to_vec());
        }
        Ok(Response::ok(Vec::new()))
    }
}
