//! The PIV family's object parsers, as a hostile card returns them: the CHUID,
//! the certificate container, and ecard's objects split into their TLVs. None may
//! panic. (The X.509 and CMS inside them: the `x509` target.)
#![no_main]

use card_profile::piv::{objects, Chuid};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(chuid) = Chuid::parse(data) {
        // What the signature covers is a prefix of the object.
        assert!(data.starts_with(&chuid.signed_content));
        let _ = chuid.serial();
    }
    let _ = objects::certificate_from_container(data);
    let _ = objects::split(data);
});
