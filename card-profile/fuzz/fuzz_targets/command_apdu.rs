//! The card side's command parser and the host side's response parser.
#![no_main]

use card_profile::apdu::{Command, Response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(cmd) = Command::parse(data) {
        // What parses re-encodes to the same bytes when it used the extended form
        // only where it had to.
        let extended = data.len() > 4 && data[4] == 0 && data.len() > 5;
        if let Ok(again) = cmd.encode(extended) {
            assert_eq!(Command::parse(&again).ok(), Some(cmd));
        }
    }
    let _ = Response::parse(data);
});
