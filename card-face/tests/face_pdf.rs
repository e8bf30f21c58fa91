//! The example card's face as a PDF, read back by programs that are not ours:
//! poppler's pdfinfo (page size), pdftotext (the Chinese text), pdftoppm (the page
//! rendered at 600 dpi) and zbarimg (the QR decoded), then the seal checked.
//! scripts/install-test-deps.sh installs poppler-utils, zbar-tools and the font.

use std::process::Command;

use card_face::{render, CardFace, DEFAULT_FONT};
use card_profile::demo::example;
use card_profile::pki::{DocumentSigner, RootKey, SigningKey, TrustList};
use card_seal::{check, issue, SealPayload, Validity, Verdict};
use chrono::NaiveDate;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("date")
}

fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e} (scripts/install-test-deps.sh installs it)"));
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn the_example_face_prints_its_text_and_a_qr_that_checks_genuine() {
    let root = RootKey {
        name: "演示省司法厅".into(),
        key: SigningKey::generate().expect("root"),
        valid_from: d(2024, 1, 1),
        valid_until: d(2044, 1, 1),
    };
    let key = SigningKey::generate().expect("signer");
    let cert = root
        .issue_signer(
            "演示市司法局",
            &key.public_key(),
            d(2025, 1, 1),
            d(2030, 1, 1),
        )
        .expect("cert");
    let signer = DocumentSigner::new(key, cert).expect("signer");
    let data = example::issue_data();
    let c = &data.certificate;
    let seal = issue(
        &SealPayload {
            number: c.number.to_string(),
            name: data.holder.name.clone(),
            unit: c.unit.clone(),
            kind: c.kind,
            valid_from: c.valid_from,
            valid_until: c.valid_until,
            issued_on: c.issue_date,
            card_serial: example::SERIAL,
            photo_hash: SealPayload::photo_hash_of(&data.photo_jpeg),
        },
        &signer,
    )
    .expect("seal");
    let face = CardFace {
        kind: c.kind,
        number: c.number.to_string(),
        name: data.holder.name.clone(),
        unit: c.unit.clone(),
        posts: "行政检查、行政处罚".into(),
        category: c.category.clone(),
        area: c.area.clone(),
        issuer: c.issuer.clone(),
        issued_on: c.issue_date,
        valid_from: c.valid_from,
        valid_until: c.valid_until,
        photo_jpeg: data.photo_jpeg.clone(),
        seal: seal.clone(),
    };
    let font = std::fs::read(DEFAULT_FONT).expect("fonts-wqy-microhei");
    let pdf = render(std::slice::from_ref(&face), &font).expect("render");
    assert!(
        pdf.len() < 200_000,
        "a face is {} bytes: the font is subset",
        pdf.len()
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("face.pdf");
    std::fs::write(&path, &pdf).expect("write");
    if let Some(keep) = std::env::var_os("ECARD_KEEP_FACE") {
        std::fs::write(keep, &pdf).expect("keep the face");
    }
    let path = path.to_str().expect("path");

    let info = run("pdfinfo", &[path]);
    assert!(info.contains("Pages:           2"), "{info}");
    assert!(
        info.contains("Page size:       242.646 x 153.071 pts"),
        "{info}"
    );

    let front = run("pdftotext", &["-f", "1", "-l", "1", path, "-"]);
    for want in [
        "行政执法证",
        "张三",
        "川X010099",
        "演示市市场监督管理局",
        "2030年05月27日",
        "演示市司法局",
    ] {
        assert!(front.contains(want), "front lacks {want:?}:\n{front}");
    }
    assert!(
        !front.contains("110105198506151236"),
        "the ID number is never printed"
    );
    let back = run("pdftotext", &["-f", "2", "-l", "2", path, "-"]);
    assert!(
        back.contains("行政检查、行政处罚") && back.contains("扫码核验"),
        "{back}"
    );

    let png = dir.path().join("back");
    run(
        "pdftoppm",
        &[
            "-f",
            "2",
            "-l",
            "2",
            "-r",
            "600",
            "-gray",
            "-png",
            "-singlefile",
            path,
            png.to_str().expect("path"),
        ],
    );
    let scanned = run(
        "zbarimg",
        &["--quiet", "--raw", &format!("{}.png", png.display())],
    );
    assert_eq!(scanned.trim_end(), seal);
    let trust = TrustList::new(vec![root.anchor()]);
    match check(
        scanned.trim_end(),
        &trust,
        std::slice::from_ref(&signer.certificate),
        example::verified_on(),
    ) {
        Verdict::Genuine {
            validity, payload, ..
        } => {
            assert_eq!(validity, Validity::Valid);
            assert_eq!(payload.name, "张三");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_photo_that_is_not_jpeg_is_refused() {
    let font = std::fs::read(DEFAULT_FONT).expect("fonts-wqy-microhei");
    let face = CardFace {
        kind: ecard_domain::codes::CertificateKind::Enforcement,
        number: "川X010099".into(),
        name: "张三".into(),
        unit: "演示市市场监督管理局".into(),
        posts: String::new(),
        category: String::new(),
        area: String::new(),
        issuer: String::new(),
        issued_on: d(2025, 6, 2),
        valid_from: d(2025, 6, 2),
        valid_until: d(2030, 5, 27),
        photo_jpeg: b"\x89PNG\r\n\x1a\n".to_vec(),
        seal: "EC1:00".into(),
    };
    assert!(matches!(
        render(&[face], &font),
        Err(card_face::FaceError::Photo(_))
    ));
    assert!(matches!(
        render(&[], &font),
        Err(card_face::FaceError::Empty)
    ));
}
