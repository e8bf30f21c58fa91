//! Prints what the PC/SC reader backend sees (readers, card presence, events):
//!     cargo run -p ecardd --example pcsc_watch
use ecardd::readers::pcsc::PcscReaders;
use ecardd::readers::ReaderBackend;

fn main() {
    let readers = PcscReaders::start(ecardd::ops::DEFAULT_CARD_DEADLINE);
    let mut events = readers.subscribe();
    for _ in 0..40 {
        std::thread::sleep(std::time::Duration::from_millis(250));
        while let Ok(e) = events.try_recv() {
            println!("event {e:?}");
        }
        println!(
            "{:?}",
            readers
                .list()
                .iter()
                .map(|r| (r.name.clone(), r.card_present))
                .collect::<Vec<_>>()
        );
    }
}
