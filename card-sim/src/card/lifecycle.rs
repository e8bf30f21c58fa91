//! ACTIVATE FILE, TERMINATE DF and WIPE: the life-cycle transitions of PROFILE.md
//! §1.1. Each one checks everything first and then changes the state in one step.

use super::NativeCard;
use card_profile::apdu::{Command, Response};
use card_profile::profile::{FileId, LifeCycle};
use card_profile::status::Status;

/// Files that must hold data before the card can be activated.
const REQUIRED_FOR_ACTIVATION: [FileId; 5] = [
    FileId::Holder,
    FileId::Photo,
    FileId::Cert,
    FileId::Sod,
    FileId::Status,
];

impl NativeCard {
    /// Common checks of the three commands: no parameters, no data, the management key.
    fn check_admin(&self, cmd: &Command) -> Result<(), Status> {
        if (cmd.p1, cmd.p2) != (0, 0) {
            return Err(Status::IncorrectP1P2);
        }
        if !cmd.data.is_empty() {
            return Err(Status::WrongLength);
        }
        if !self.volatile.session {
            return Err(Status::SecurityStatusNotSatisfied);
        }
        Ok(())
    }

    pub(super) fn activate(&mut self, cmd: &Command) -> Result<Response, Status> {
        self.check_admin(cmd)?;
        let complete = self.state.life_cycle == LifeCycle::Personalizing
            && self.state.chip_key.is_some()
            && REQUIRED_FOR_ACTIVATION
                .iter()
                .all(|f| !self.file(*f).is_empty());
        if !complete {
            return Err(Status::ConditionsNotSatisfied);
        }
        self.state.life_cycle = LifeCycle::Activated;
        Ok(Response::ok(Vec::new()))
    }

    pub(super) fn terminate(&mut self, cmd: &Command) -> Result<Response, Status> {
        self.check_admin(cmd)?;
        if !matches!(
            self.state.life_cycle,
            LifeCycle::Personalizing | LifeCycle::Activated
        ) {
            return Err(Status::ConditionsNotSatisfied);
        }
        self.state.life_cycle = LifeCycle::Terminated;
        Ok(Response::ok(Vec::new()))
    }

    pub(super) fn wipe(&mut self, cmd: &Command) -> Result<Response, Status> {
        self.check_admin(cmd)?;
        if !matches!(
            self.state.life_cycle,
            LifeCycle::Blank | LifeCycle::Personalizing
        ) {
            return Err(Status::ConditionsNotSatisfied);
        }
        // EF.VER was written at manufacture and stays.
        self.state.files.retain(|f, _| *f == FileId::Ver);
        self.state.records.clear();
        self.state.chip_key = None;
        self.state.life_cycle = LifeCycle::Blank;
        Ok(Response::ok(Vec::new()))
    }
}
