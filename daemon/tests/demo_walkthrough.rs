//! `ecardd demo --walkthrough --face-pdf PATH` (README, "Run"): the terminal demo
//! writes the first card's printable face, and the QR on its back — rendered by
//! poppler and read by zbarimg, decoders that are not ours — is a seal the station
//! checks as genuine.
#![allow(clippy::unwrap_used)]
#![cfg(feature = "demo")]

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_ecardd");

#[test]
fn the_walkthrough_writes_a_printable_face_whose_qr_is_a_genuine_seal() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("face.pdf");
    let out = Command::new(BIN)
        .args(["demo", "--walkthrough", "--face-pdf"])
        .arg(&pdf)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!(
            "卡面（正反两面，可打印）已写入：{}",
            pdf.display()
        )),
        "{stdout}"
    );
    assert!(stdout.contains("背面二维码核验：真实"), "{stdout}");
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));

    let text =
        ecard_test_support::cups::read_back::qr(&pdf, 2).expect("zbarimg reads the back's QR");
    assert!(text.trim_end().starts_with("EC1:"), "{text}");
    // What the code on paper holds is the seal the walkthrough checked.
    assert!(
        stdout.contains(&format!("背面二维码内容：{}\n", text.trim_end())),
        "{stdout}\nscanned: {text}"
    );

    // Without --walkthrough the option is refused (it would write nothing).
    let out = Command::new(BIN)
        .args(["demo", "--face-pdf"])
        .arg(&pdf)
        .output()
        .unwrap();
    assert!(!out.status.success());
}
