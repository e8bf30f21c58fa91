//! Simulated readers for `ecardd demo` and the daemon's own tests: in-process
//! card-sim cards, a stack of blank cards to draw from, and a tray where cards
//! taken out of a reader wait to be put back (to verify a card written earlier).

use super::{CardOp, ReaderBackend, ReaderError, ReaderEvent, ReaderInfo};
use card_profile::keys::MasterKey;
use card_profile::piv::{Chuid, Container};
use card_profile::profile::{Family, LifeCycle};
use card_profile::transport::{CardChannel, TransportError};
use card_sim::{SimCard, SimOptions};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Mutex;
use tokio::sync::broadcast;

/// How long `eject` waits for an operation still running on the card.
const EJECT_WAITS_FOR_BUSY: std::time::Duration = std::time::Duration::from_secs(2);

struct Slot {
    card: Option<SimCard>,
    busy: bool,
    /// Fault injection for tests: the next operation loses the card at this APDU.
    tear_at: Option<u64>,
}

struct State {
    slots: BTreeMap<String, Slot>,
    /// Cards taken out of a reader, by serial (hex).
    tray: BTreeMap<String, SimCard>,
    next_serial: u64,
    blanks_left: u32,
}

impl State {
    fn slot(&mut self, reader: &str) -> Result<&mut Slot, ReaderError> {
        self.slots
            .get_mut(reader)
            .ok_or_else(|| ReaderError::UnknownReader(reader.into()))
    }
}

/// A card on the tray, as the UI lists it: the serial it is put back by, which
/// family it is (a PIV card and a native card look alike on the tray), and how far
/// it was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrayCard {
    pub serial: String,
    pub family: Family,
    pub family_label: &'static str,
    pub life_cycle: String,
}

pub struct SimReaders {
    state: Mutex<State>,
    master: MasterKey,
    options: SimOptions,
    events: broadcast::Sender<ReaderEvent>,
}

impl SimReaders {
    /// `readers` named slots, `blanks` blank cards whose management keys derive from
    /// `master` (the card supplier's key ceremony, simulated).
    pub fn new(names: &[&str], blanks: u32, master: MasterKey, first_serial: u64) -> Self {
        let slots = names
            .iter()
            .map(|n| {
                (
                    n.to_string(),
                    Slot {
                        card: None,
                        busy: false,
                        tear_at: None,
                    },
                )
            })
            .collect();
        Self {
            state: Mutex::new(State {
                slots,
                tray: BTreeMap::new(),
                next_serial: first_serial,
                blanks_left: blanks,
            }),
            master,
            options: SimOptions::default(),
            events: broadcast::channel(256).0,
        }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, State>, ReaderError> {
        self.state
            .lock()
            .map_err(|_| ReaderError::ServiceUnavailable("simulated readers poisoned".into()))
    }

    /// Takes a blank card from the stack and puts it in `reader`.
    pub fn insert_blank(&self, reader: &str) -> Result<String, ReaderError> {
        let mut st = self.lock()?;
        if st.blanks_left == 0 {
            return Err(ReaderError::NoCard("空白卡已用完".into()));
        }
        let serial = st.next_serial.to_be_bytes();
        let card = SimCard::from_master_key(serial, &self.master, self.options);
        let slot = st.slot(reader)?;
        if slot.card.is_some() {
            return Err(ReaderError::Busy(reader.into()));
        }
        slot.card = Some(card);
        st.next_serial += 1;
        st.blanks_left -= 1;
        let _ = self.events.send(ReaderEvent::CardInserted {
            reader: reader.into(),
        });
        Ok(hex::encode_upper(serial))
    }

    /// Puts a blank PIV card, as sold (factory keys, no objects), into `reader`.
    /// It comes from no stack: PIV cards are bought, not pre-personalised.
    pub fn insert_blank_piv(&self, reader: &str) -> Result<(), ReaderError> {
        self.insert_card(
            reader,
            SimCard::blank_piv(card_sim::PivSetup::factory(piv_serial()), self.options),
        )
    }

    /// Takes the card out of `reader` and lays it on the tray. An operation still
    /// finishing on it (the photo read after a verdict) is waited for briefly.
    pub fn eject(&self, reader: &str) -> Result<Option<String>, ReaderError> {
        let waiting_since = std::time::Instant::now();
        let mut st = self.lock()?;
        while st.slot(reader)?.busy && waiting_since.elapsed() < EJECT_WAITS_FOR_BUSY {
            drop(st);
            std::thread::sleep(std::time::Duration::from_millis(5));
            st = self.lock()?;
        }
        let slot = st.slot(reader)?;
        if slot.busy {
            return Err(ReaderError::Busy(reader.into()));
        }
        let Some(mut card) = slot.card.take() else {
            return Ok(None);
        };
        card.power_cycle();
        let serial = hex::encode_upper(ecard_serial(&card));
        st.tray.insert(serial.clone(), card);
        let _ = self.events.send(ReaderEvent::CardRemoved {
            reader: reader.into(),
        });
        Ok(Some(serial))
    }

    /// Puts a card from the tray back into `reader`.
    pub fn insert_from_tray(&self, reader: &str, serial: &str) -> Result<(), ReaderError> {
        let mut st = self.lock()?;
        let card = st
            .tray
            .remove(serial)
            .ok_or_else(|| ReaderError::NoCard(format!("托盘中没有卡 {serial}")))?;
        let slot = match st.slots.get_mut(reader) {
            Some(s) if s.card.is_none() => s,
            Some(_) => {
                st.tray.insert(serial.into(), card);
                return Err(ReaderError::Busy(reader.into()));
            }
            None => {
                st.tray.insert(serial.into(), card);
                return Err(ReaderError::UnknownReader(reader.into()));
            }
        };
        slot.card = Some(card);
        let _ = self.events.send(ReaderEvent::CardInserted {
            reader: reader.into(),
        });
        Ok(())
    }

    pub fn tray(&self) -> Vec<TrayCard> {
        self.lock()
            .map(|st| {
                st.tray
                    .iter()
                    .map(|(serial, card)| TrayCard {
                        serial: serial.clone(),
                        family: family(card),
                        family_label: crate::labels::family_zh(family(card)),
                        life_cycle: match ecard_life_cycle(card) {
                            LifeCycle::Activated => "已制证",
                            LifeCycle::Terminated => "已终止",
                            LifeCycle::Personalizing => "写卡未完成",
                            _ => "空白卡",
                        }
                        .to_owned(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Test hook: the card in `reader` is lost at the `k`-th APDU (0-based) from now,
    /// counted across operations (one that ends earlier passes the rest on); the card
    /// stays in the reader, as if pulled out and put straight back.
    pub fn tear_next(&self, reader: &str, k: u64) -> Result<(), ReaderError> {
        let mut st = self.lock()?;
        let slot = st.slot(reader)?;
        slot.tear_at = Some(k);
        Ok(())
    }

    /// Test hook: puts an arbitrary card (e.g. from another bureau) into `reader`.
    pub fn insert_card(&self, reader: &str, card: SimCard) -> Result<(), ReaderError> {
        let mut st = self.lock()?;
        let slot = st.slot(reader)?;
        if slot.card.is_some() {
            return Err(ReaderError::Busy(reader.into()));
        }
        slot.card = Some(card);
        drop(st);
        let _ = self.events.send(ReaderEvent::CardInserted {
            reader: reader.into(),
        });
        Ok(())
    }

    /// Test hook: takes the card with `serial` off the tray (e.g. to make a fake of
    /// it with `SimCard::counterfeit_of`, or to hand it to another reader set).
    pub fn take_from_tray(&self, serial: &str) -> Result<SimCard, ReaderError> {
        self.lock()?
            .tray
            .remove(serial)
            .ok_or_else(|| ReaderError::NoCard(format!("托盘中没有卡 {serial}")))
    }

    pub fn blanks_left(&self) -> u32 {
        self.lock().map(|st| st.blanks_left).unwrap_or(0)
    }
}

/// The serial ecard knows a card by: a native card's own, a PIV card's from the
/// GUID of its CHUID (before it has one, its vendor serial, so that two blank PIV
/// cards on the tray stay two).
fn ecard_serial(card: &SimCard) -> [u8; 8] {
    match card.piv() {
        None => card.serial(),
        Some(piv) => piv
            .object(Container::Chuid.tag())
            .and_then(|v| Chuid::parse(v).ok())
            .map_or(card.serial(), |c| c.serial()),
    }
}

/// The card's family as ecard names it (card-sim has its own enum for its state file).
fn family(card: &SimCard) -> Family {
    if card.piv().is_some() {
        Family::Piv
    } else {
        Family::Native
    }
}

/// The life cycle as ecard reads it (docs/PROFILE-PIV.md §2): on a PIV card, from
/// ecard's own objects.
fn ecard_life_cycle(card: &SimCard) -> LifeCycle {
    match card.piv() {
        None => card.life_cycle(),
        Some(piv) => card_profile::piv::objects::life_cycle(|c| piv.object(c.tag()).unwrap_or(&[])),
    }
}

/// A PIV card's own serial (what a YubiKey answers to F8): random, as a shop's are.
fn piv_serial() -> [u8; 8] {
    use ring::rand::SecureRandom;
    let mut serial = [0u8; 8];
    // A failed generator leaves zeros: a demo card's vendor serial is never trusted.
    let _ = ring::rand::SystemRandom::new().fill(&mut serial);
    serial
}

/// The channel handed to an operation: the card itself, moved out of its slot
/// while the operation runs (that is the exclusive transaction).
struct Borrowed<'a> {
    card: &'a mut SimCard,
    sent: u64,
    tear_at: Option<u64>,
    torn: bool,
}

impl CardChannel for Borrowed<'_> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        if self.torn {
            return Err(TransportError::CardRemoved);
        }
        if self.tear_at == Some(self.sent) {
            // Power lost mid-command: the card keeps what a torn write leaves.
            let _ = self.card.tear(command);
            self.torn = true;
            return Err(TransportError::CardRemoved);
        }
        self.sent += 1;
        Ok(self.card.process(command))
    }
}

impl ReaderBackend for SimReaders {
    fn list(&self) -> Vec<ReaderInfo> {
        self.lock()
            .map(|st| {
                st.slots
                    .iter()
                    .map(|(name, slot)| ReaderInfo {
                        name: name.clone(),
                        card_present: slot.card.is_some() || slot.busy,
                        busy: slot.busy,
                        simulated: true,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn subscribe(&self) -> broadcast::Receiver<ReaderEvent> {
        self.events.subscribe()
    }

    fn run_blocking(&self, reader: &str, op: CardOp<()>) -> Result<(), ReaderError> {
        let (mut card, tear_at) = {
            let mut st = self.lock()?;
            let slot = st.slot(reader)?;
            if slot.busy {
                return Err(ReaderError::Busy(reader.into()));
            }
            let card = slot
                .card
                .take()
                .ok_or_else(|| ReaderError::NoCard(reader.into()))?;
            slot.busy = true;
            (card, slot.tear_at.take())
        };
        // A new session starts from reset, as a fresh PC/SC connection would see it.
        card.power_cycle();
        let mut channel = Borrowed {
            card: &mut card,
            sent: 0,
            tear_at,
            torn: false,
        };
        op(&mut channel);
        // A tear this operation did not reach waits for the next one, counted on.
        let pending_tear = match (channel.tear_at, channel.torn) {
            (Some(k), false) => Some(k.saturating_sub(channel.sent)),
            _ => None,
        };
        let mut st = self.lock()?;
        if let Some(slot) = st.slots.get_mut(reader) {
            slot.card = Some(card);
            slot.busy = false;
            slot.tear_at = pending_tear;
        }
        Ok(())
    }
}
