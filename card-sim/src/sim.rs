//! [`SimCard`]: a software card running one application, the native ecard profile
//! or PIV, and keeping its state file. Everything around it (SimChannel, the vpcd
//! loop, `ecard-sim`, the daemon's simulated readers) sees only this type, so it
//! works for both families unchanged.

use crate::card::NativeCard;
use crate::options::SimOptions;
use crate::piv::{PivCard, PivSetup, PivState};
use crate::state::{CardState, Family, Persistent, StateError};
use card_profile::apdu::Response;
use card_profile::keys::{ManagementKey, MasterKey, Serial};
use card_profile::profile::{FileId, LifeCycle};
use card_profile::status::Status;
use std::path::{Path, PathBuf};

/// The application on the card.
#[derive(Debug)]
enum Applet {
    Native(NativeCard),
    Piv(Box<PivCard>),
}

/// A software card.
#[derive(Debug)]
pub struct SimCard {
    applet: Applet,
    state_path: Option<PathBuf>,
}

impl SimCard {
    fn new(applet: Applet) -> Self {
        Self {
            applet,
            state_path: None,
        }
    }

    /// A blank native card as delivered: EF.VER written from the serial and
    /// capabilities, the management key loaded, everything else empty.
    pub fn manufacture(
        serial: Serial,
        management_key: ManagementKey,
        options: SimOptions,
    ) -> SimCard {
        Self::new(Applet::Native(NativeCard::manufacture(
            serial,
            management_key,
            options,
        )))
    }

    /// A blank native card whose management key is diversified from the bureau
    /// master key (the supplier's key ceremony, PROFILE.md §5).
    pub fn from_master_key(serial: Serial, master: &MasterKey, options: SimOptions) -> SimCard {
        Self::new(Applet::Native(NativeCard::from_master_key(
            serial, master, options,
        )))
    }

    /// A native card with the given persistent state, powered up fresh.
    pub fn from_state(state: Persistent, options: SimOptions) -> SimCard {
        Self::new(Applet::Native(NativeCard::from_state(state, options)))
    }

    /// A factory-blank PIV card: the 9B key of `setup`, PIN 123456, PUK 12345678,
    /// no objects, no keys.
    pub fn blank_piv(setup: PivSetup, options: SimOptions) -> SimCard {
        Self::new(Applet::Piv(Box::new(PivCard::blank(setup, options))))
    }

    /// A PIV card with the given persistent state, powered up fresh.
    pub fn from_piv_state(state: PivState, options: SimOptions) -> SimCard {
        Self::new(Applet::Piv(Box::new(PivCard::from_state(state, options))))
    }

    /// A card of either family, powered up fresh.
    pub fn from_card_state(state: CardState, options: SimOptions) -> SimCard {
        match state {
            CardState::Native(state) => Self::from_state(state, options),
            CardState::Piv(state) => Self::from_piv_state(state, options),
        }
    }

    /// A fake of `genuine`: everything a reader can copy, and keys of its own,
    /// since the genuine ones never leave the chip. `knows_management_key`: it also
    /// holds the genuine card's management (9B) key (a leaked master key);
    /// otherwise it holds none and accepts every authentication attempt, as a fake
    /// card would.
    pub fn counterfeit_of(genuine: &SimCard, knows_management_key: bool) -> SimCard {
        match &genuine.applet {
            Applet::Native(card) => Self::new(Applet::Native(NativeCard::counterfeit_of(
                card,
                knows_management_key,
            ))),
            Applet::Piv(card) => {
                // As for the native fake: one that silently kept the genuine keys
                // would turn refusal tests into tests of the opposite.
                #[allow(clippy::expect_used)]
                let fake = PivCard::counterfeit_of(card, knows_management_key)
                    .expect("the system random number generator works");
                Self::new(Applet::Piv(Box::new(fake)))
            }
        }
    }

    /// From now on accepts every management-key authentication (native EXTERNAL
    /// AUTHENTICATE, PIV 9B witness), as a fake card that does not hold the key
    /// would (its own answer to a host challenge is then wrong).
    pub fn accept_any_cryptogram(&mut self) {
        match &mut self.applet {
            Applet::Native(card) => card.accept_any_cryptogram(),
            Applet::Piv(card) => card.accept_any_cryptogram(),
        }
    }

    /// Loads a card of either family from its state file; later changes are saved
    /// back to it.
    pub fn load(path: &Path, options: SimOptions) -> Result<SimCard, StateError> {
        let mut card = Self::from_card_state(CardState::load(path)?, options);
        card.state_path = Some(path.to_owned());
        Ok(card)
    }

    /// Keeps the card's state in `path` from now on, saving it right away.
    pub fn attach_state_file(&mut self, path: &Path) -> Result<(), StateError> {
        self.card_state().save(path)?;
        self.state_path = Some(path.to_owned());
        Ok(())
    }

    pub fn state_path(&self) -> Option<&Path> {
        self.state_path.as_deref()
    }

    pub fn save(&self) -> Result<(), StateError> {
        match &self.state_path {
            Some(path) => self.card_state().save(path),
            None => Ok(()),
        }
    }

    pub fn family(&self) -> Family {
        match &self.applet {
            Applet::Native(_) => Family::Native,
            Applet::Piv(_) => Family::Piv,
        }
    }

    /// The persistent state of either family (a copy).
    pub fn card_state(&self) -> CardState {
        match &self.applet {
            Applet::Native(card) => CardState::Native(card.persistent().clone()),
            Applet::Piv(card) => CardState::Piv(card.state().clone()),
        }
    }

    fn restore(&mut self, state: CardState) {
        match (&mut self.applet, state) {
            (Applet::Native(card), CardState::Native(state)) => card.restore(state),
            (Applet::Piv(card), CardState::Piv(state)) => card.restore(state),
            // A snapshot is always of the card's own family.
            _ => {}
        }
    }

    /// The PIV application, when this is a PIV card.
    pub fn piv(&self) -> Option<&PivCard> {
        match &self.applet {
            Applet::Piv(card) => Some(card),
            Applet::Native(_) => None,
        }
    }

    pub fn options(&self) -> SimOptions {
        match &self.applet {
            Applet::Native(card) => card.options(),
            Applet::Piv(card) => card.options(),
        }
    }

    /// The card serial (a PIV card answers its last four bytes to F8).
    pub fn serial(&self) -> Serial {
        match &self.applet {
            Applet::Native(card) => card.serial(),
            Applet::Piv(card) => card.state().serial,
        }
    }

    /// The native life cycle. A PIV card has none of its own; it reads as `Blank`
    /// when factory blank (no objects, no keys), `Activated` when it holds a 9E
    /// key and its certificate, and `Personalizing` otherwise.
    pub fn life_cycle(&self) -> LifeCycle {
        match &self.applet {
            Applet::Native(card) => card.life_cycle(),
            Applet::Piv(card) if card.is_blank() => LifeCycle::Blank,
            Applet::Piv(card)
                if card.public_key(0x9E).is_some()
                    && card.object(crate::piv::objects::CERT_9E).is_some() =>
            {
                LifeCycle::Activated
            }
            Applet::Piv(_) => LifeCycle::Personalizing,
        }
    }

    /// Content of a native transparent file (empty when never written, and always
    /// on a PIV card, which has objects instead: [`SimCard::piv`]).
    pub fn file(&self, id: FileId) -> &[u8] {
        match &self.applet {
            Applet::Native(card) => card.file(id),
            Applet::Piv(_) => &[],
        }
    }

    /// EF.REVIEWS (empty on a PIV card).
    pub fn records(&self) -> &[Vec<u8>] {
        match &self.applet {
            Applet::Native(card) => card.records(),
            Applet::Piv(_) => &[],
        }
    }

    /// Tries left of the native management key; on a PIV card, of the PIN.
    pub fn tries_left(&self) -> u8 {
        match &self.applet {
            Applet::Native(card) => card.tries_left(),
            Applet::Piv(card) => card.pin_tries_left(),
        }
    }

    /// The native chip key, or the PIV card authentication key (9E).
    pub fn has_chip_key(&self) -> bool {
        match &self.applet {
            Applet::Native(card) => card.has_chip_key(),
            Applet::Piv(card) => card.public_key(0x9E).is_some(),
        }
    }

    /// The native card's persistent state.
    ///
    /// # Panics
    /// On a PIV card, which has no native state: use [`SimCard::card_state`] or
    /// [`SimCard::piv`]. (Kept this way because the native tests read it directly.)
    pub fn persistent(&self) -> &Persistent {
        match &self.applet {
            Applet::Native(card) => card.persistent(),
            Applet::Piv(_) => panic!("SimCard::persistent() on a PIV card; use card_state()"),
        }
    }

    /// Reset or power loss: RAM is gone, EEPROM stays.
    pub fn power_cycle(&mut self) {
        match &mut self.applet {
            Applet::Native(card) => card.power_cycle(),
            Applet::Piv(card) => card.power_cycle(),
        }
    }

    /// Processes one command APDU and returns the response (data + SW). Never
    /// panics. With a state file, a change that cannot be saved is undone and
    /// answered `6581`.
    pub fn process(&mut self, apdu: &[u8]) -> Vec<u8> {
        let before = self.state_path.is_some().then(|| self.card_state());
        let resp = self.dispatch(apdu);
        if let Some(before) = before {
            if before != self.card_state() && self.save().is_err() {
                // The "EEPROM write" failed: the old state holds.
                self.restore(before);
                return Response::status(Status::MemoryFailure).to_bytes();
            }
        }
        resp.to_bytes()
    }

    fn dispatch(&mut self, apdu: &[u8]) -> Response {
        match &mut self.applet {
            Applet::Native(card) => card.dispatch(apdu, false),
            Applet::Piv(card) => card.dispatch(apdu),
        }
    }

    /// Power is lost in the middle of this command (the card is pulled out). On a
    /// native card, UPDATE BINARY and APPEND RECORD have written only the first half
    /// of their data (a torn EEPROM write); any other command, and every PIV
    /// command, has no effect, because every other change of persistent state is
    /// atomic. The card is then powered off and its state saved.
    pub fn tear(&mut self, apdu: &[u8]) -> Result<(), StateError> {
        let before = self.card_state();
        if let Applet::Native(card) = &mut self.applet {
            card.tear(apdu);
        }
        self.power_cycle();
        if before != self.card_state() {
            self.save()?;
        }
        Ok(())
    }
}
