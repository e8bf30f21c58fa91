//! Turns the physical PIV opt-ins into cfgs, so a test that needs a PIV token is
//! compiled as `#[ignore]`d (reported as skipped by `cargo test`) unless the person
//! running it said which card sits in the reader. libtest cannot ignore a test at run
//! time, and a test that returns early would be reported as passed.
//!
//! - `ECARD_HW_PIV=1`: the card in `ECARD_HW_READER` is a PIV token (`ecard_hw_piv`).
//! - `ECARD_HW_PIV_WRITE=1`: it may be written, and its 9B key changed to one derived
//!   from the demo master key (`ecard_hw_piv_write`).
//! - `ECARD_PIV_AUTHENTICATOR_BIN` set: Nitrokey's piv-authenticator runner is there
//!   to be started as a vpcd card (`ecard_piv_authenticator`).

fn main() {
    for (var, cfg) in [
        ("ECARD_HW_PIV", "ecard_hw_piv"),
        ("ECARD_HW_PIV_WRITE", "ecard_hw_piv_write"),
    ] {
        println!("cargo::rerun-if-env-changed={var}");
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        if std::env::var(var).is_ok_and(|v| v.trim() == "1") {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
    println!("cargo::rerun-if-env-changed=ECARD_PIV_AUTHENTICATOR_BIN");
    println!("cargo::rustc-check-cfg=cfg(ecard_piv_authenticator)");
    if std::env::var_os("ECARD_PIV_AUTHENTICATOR_BIN").is_some_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=ecard_piv_authenticator");
    }
}
