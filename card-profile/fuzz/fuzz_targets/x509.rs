//! The PIV family's X.509 / CMS parsers: the 9E certificate (5FC101) and the
//! CHUID's CMS signature (3E), as a hostile card returns them. None may panic.
#![no_main]

use card_profile::x509::{certificate_issued_by, CardAuthCertificate, ChuidSignature};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(cert) = CardAuthCertificate::parse(data) {
        // A certificate that parses has a key; checking it against itself runs the
        // signature path on whatever the input put there.
        let _ = cert.verify_issued_by(&cert.chip_key);
        let _ = cert.check_validity(cert.valid_from);
    }
    let _ = certificate_issued_by(data, &[4; 65]);
    // The content is the first bytes of the input, the CMS the rest, so the
    // messageDigest check can be met by an input that carries its own hash.
    let split = data.first().map_or(0, |n| usize::from(*n)).min(data.len());
    let (content, cms) = data.split_at(split);
    let _ = ChuidSignature::verify(cms, content);
});
