//! The SM suite checked by a program that is not ours (#17): Debian's OpenSSL 3
//! verifies ecard's SM2 signatures and SM3 hashes, reads ecard's SM2 private key,
//! and signs a message ecard's verifier accepts. OpenSSL signs with an empty SM2 ID
//! unless told, so every command passes `distid:1234567812345678` (../shared/GUOMI.md).

use card_profile::suite::{Suite, SuiteKey, SM2_ID};
use std::path::Path;
use std::process::Command;

fn openssl(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs (scripts/install-test-deps.sh installs it)")
}

/// `openssl pkeyutl -verify` of an SM2 signature (DER, `sig`) over the file `msg`
/// under `pub.pem`, with the GM/T 0009 ID.
fn openssl_sm2_verify(dir: &Path, msg: &str, sig: &str) -> std::process::Output {
    let distid = format!("distid:{SM2_ID}");
    openssl(
        &[
            "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin", "-digest", "sm3",
            "-pkeyopt", &distid, "-in", msg, "-sigfile", sig,
        ],
        dir,
    )
}

/// `04‖X‖Y` → a PEM public key OpenSSL reads: the SPKI prefix for id-ecPublicKey
/// with the SM2 curve OID, then the point.
fn sm2_public_pem(dir: &Path, public: &[u8; 65]) -> std::path::PathBuf {
    let mut der = hex::decode("3059301306072a8648ce3d020106082a811ccf5501822d034200").expect("hex");
    der.extend_from_slice(public);
    std::fs::write(dir.join("pub.der"), &der).expect("write");
    let out = openssl(
        &[
            "pkey", "-pubin", "-inform", "DER", "-in", "pub.der", "-out", "pub.pem",
        ],
        dir,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir.join("pub.pem")
}

/// Raw r‖s → DER SEQUENCE { INTEGER r, INTEGER s }, what OpenSSL's SM2 takes.
fn der_signature(rs: &[u8; 64]) -> Vec<u8> {
    fn int(v: &[u8]) -> Vec<u8> {
        let mut v: Vec<u8> = v.iter().copied().skip_while(|b| *b == 0).collect();
        if v.first().is_none_or(|b| b & 0x80 != 0) {
            v.insert(0, 0);
        }
        let mut out = vec![0x02, v.len() as u8];
        out.extend(v);
        out
    }
    let mut body = int(&rs[..32]);
    body.extend(int(&rs[32..]));
    let mut out = vec![0x30, body.len() as u8];
    out.extend(body);
    out
}

/// DER SEQUENCE { INTEGER r, INTEGER s } → raw r‖s.
fn raw_signature(der: &[u8]) -> [u8; 64] {
    assert_eq!(der[0], 0x30);
    let mut pos = 2;
    let mut out = [0u8; 64];
    for half in 0..2 {
        assert_eq!(der[pos], 0x02);
        let len = der[pos + 1] as usize;
        let v = &der[pos + 2..pos + 2 + len];
        let v = &v[v.len().saturating_sub(32)..];
        out[half * 32 + 32 - v.len()..half * 32 + 32].copy_from_slice(v);
        pos += 2 + len;
    }
    out
}

#[test]
fn openssl_verifies_an_sm2_signature_made_by_ecard() {
    let dir = tempfile::tempdir().expect("tmp");
    let key =
        SuiteKey::from_pkcs8(Suite::Sm, &Suite::Sm.generate_pkcs8().expect("gen")).expect("key");
    let message = "二〇二六年度年审 ecard security object".as_bytes();
    std::fs::write(dir.path().join("msg"), message).expect("write");
    let sig = key.sign(message).expect("sign");
    std::fs::write(dir.path().join("sig.der"), der_signature(&sig)).expect("write");
    sm2_public_pem(dir.path(), &key.public_key());
    let verify = |msg: &str| openssl_sm2_verify(dir.path(), msg, "sig.der");
    let good = verify("msg");
    assert!(
        good.status.success(),
        "openssl refused ecard's SM2 signature: {}{}",
        String::from_utf8_lossy(&good.stdout),
        String::from_utf8_lossy(&good.stderr)
    );
    // A changed message fails under OpenSSL too: the check can fail.
    std::fs::write(dir.path().join("msg2"), b"another message").expect("write");
    assert!(!verify("msg2").status.success());
}

#[test]
fn ecard_verifies_an_sm2_signature_made_by_openssl_with_a_key_ecard_wrote() {
    let dir = tempfile::tempdir().expect("tmp");
    let pkcs8 = Suite::Sm.generate_pkcs8().expect("gen");
    let key = SuiteKey::from_pkcs8(Suite::Sm, &pkcs8).expect("key");
    std::fs::write(dir.path().join("key.der"), &*pkcs8).expect("write");
    // OpenSSL reads ecard's PKCS#8 key and derives the same public point.
    let out = openssl(
        &[
            "pkey", "-inform", "DER", "-in", "key.der", "-pubout", "-outform", "DER",
        ],
        dir.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(&out.stdout[out.stdout.len() - 65..], &key.public_key()[..]);

    std::fs::write(dir.path().join("msg"), b"message signed by openssl").expect("write");
    let out = openssl(
        &[
            "pkeyutl",
            "-sign",
            "-inkey",
            "key.der",
            "-keyform",
            "DER",
            "-rawin",
            "-digest",
            "sm3",
            "-pkeyopt",
            &format!("distid:{SM2_ID}"),
            "-in",
            "msg",
            "-out",
            "sig.der",
        ],
        dir.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let der = std::fs::read(dir.path().join("sig.der")).expect("read");
    let rs = raw_signature(&der);
    assert!(Suite::Sm.verify(&key.public_key(), b"message signed by openssl", &rs));
    assert!(!Suite::Sm.verify(&key.public_key(), b"message signed by OpenSSL", &rs));
}

#[test]
fn openssl_computes_the_same_sm3_hash() {
    let dir = tempfile::tempdir().expect("tmp");
    // A file the size of a card's photo file, not a multiple of the block size.
    let data: Vec<u8> = (0..20_011u32).map(|i| (i * 7 + i / 251) as u8).collect();
    std::fs::write(dir.path().join("file"), &data).expect("write");
    let out = openssl(&["dgst", "-sm3", "-r", "file"], dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let theirs = text.split_whitespace().next().expect("digest");
    assert_eq!(theirs, hex::encode(Suite::Sm.hash(&data)));
}

/// GB/T 32907-2016 appendix A example 2: the plaintext encrypted 1,000,000 times.
#[test]
fn sm4_million_fold_example() {
    use sm4::cipher::{BlockEncrypt, KeyInit};
    let key = hex::decode("0123456789abcdeffedcba9876543210").expect("hex");
    let cipher = sm4::Sm4::new_from_slice(&key).expect("key");
    let mut block = sm4::cipher::generic_array::GenericArray::clone_from_slice(&key);
    for _ in 0..1_000_000 {
        cipher.encrypt_block(&mut block);
    }
    assert_eq!(hex::encode(block), "595298c7c6fd271f0402f804c33d3f66");
}

/// A whole SM card's security object checked by OpenSSL alone: the SM2 signature
/// over EF.SOD's content under the document signer's key from the certificate on
/// the card, and each file's SM3 hash recomputed by `openssl dgst -sm3`.
#[test]
fn openssl_checks_an_sm_cards_security_object_and_file_hashes() {
    use card_profile::channel::Link;
    use card_profile::profile::FileId;
    use card_profile::sod::SecurityObject;
    use card_sim::{SimCard, SimChannel, SimOptions};
    let today = chrono::NaiveDate::from_ymd_opt(2026, 6, 1).expect("date");
    let pki = card_profile::demo::pki_in(Suite::Sm, today).expect("keys");
    let mut link = Link::new(SimChannel::new(SimCard::from_master_key(
        [0x53; 8],
        &pki.master,
        SimOptions::default(),
    )));
    let data = card_profile::demo::officers(today).swap_remove(0);
    card_profile::sequences::personalize(&mut link, &data, &pki.master, &pki.signer, today)
        .expect("personalize");
    let card = link.channel_mut().card();
    let sod = SecurityObject::parse(card.file(FileId::Sod)).expect("sod");

    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("content"), &sod.signed.content).expect("write");
    std::fs::write(
        dir.path().join("sig.der"),
        der_signature(&sod.signed.signature),
    )
    .expect("write");
    sm2_public_pem(dir.path(), &sod.signed.signer.public_key);
    let out = openssl_sm2_verify(dir.path(), "content", "sig.der");
    assert!(
        out.status.success(),
        "openssl refused EF.SOD's SM2 signature: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for file in [FileId::Ver, FileId::Holder, FileId::Cert, FileId::Photo] {
        let name = format!("{file:?}");
        std::fs::write(dir.path().join(&name), card.file(file)).expect("write");
        let out = openssl(&["dgst", "-sm3", "-r", &name], dir.path());
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        let theirs = text.split_whitespace().next().expect("digest");
        assert_eq!(
            Some(theirs.to_owned()),
            sod.hash_of(file).map(hex::encode),
            "{name}"
        );
    }
}
