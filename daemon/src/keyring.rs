//! The station's keys in the store: the bureau master key and the document-signer
//! key, each sealed under the operator passphrase (crate::keystore), the signer's
//! certificate beside them, and the trust anchors (province roots) verification uses.
//!
//! The province root key never enters a station database: `ecardd keys root init`
//! writes it, sealed, to a file of its own, which a province keeps offline; the
//! station only receives the anchor (public key) and its signer certificate.

use crate::keystore::{self, Cipher, KdfParams, KeystoreError, SealedKey, MASTER_KEY, SIGNER_KEY};
use crate::ops::StationKeys;
use crate::store::{self, Store, StoreError};
use card_profile::keys::MasterKey;
use card_profile::pki::{
    DocumentSigner, PkiError, RootKey, SignerCertificate, SigningKey, TrustAnchor, TrustList,
};
use card_profile::suite::Suite;
use chrono::{Months, NaiveDate};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error(transparent)]
    Keystore(#[from] KeystoreError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("pki: {0}")]
    Pki(#[from] PkiError),
    #[error("station keys are not initialised")]
    NotInitialised,
    #[error("station keys already exist")]
    AlreadyInitialised,
    #[error("stored key material is malformed: {0}")]
    Malformed(String),
    #[error("random generator failed")]
    Random,
}

impl KeyringError {
    /// A stable code: the keystore's own for a sealing/unsealing refusal.
    pub fn code(&self) -> &'static str {
        match self {
            KeyringError::Keystore(e) => e.code(),
            KeyringError::AlreadyInitialised => "keys_exist",
            KeyringError::NotInitialised => "keys_not_initialised",
            _ => "keys_error",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            KeyringError::Keystore(e) => e.message_zh().into(),
            KeyringError::Store(_) => "数据库错误，密钥未改变".into(),
            KeyringError::Pki(_) => "密钥或证书无效".into(),
            KeyringError::NotInitialised => "本站尚未生成密钥，请先运行 `ecardd keys init`".into(),
            KeyringError::AlreadyInitialised => "本站密钥已存在，未做任何改变".into(),
            KeyringError::Malformed(_) => "存储的密钥数据已损坏".into(),
            KeyringError::Random => "系统随机数生成失败".into(),
        }
    }
}

/// A province root key sealed in its own file, with its public anchor in the clear.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RootKeyFile {
    pub anchor: TrustAnchor,
    pub sealed: SealedKey,
}

const ROOT_KEY: &str = "province-root-key";

/// Generates a province root key valid 20 years from `today`, in `suite` (the
/// province's algorithm suite: every station under it follows; docs/SUITES.md).
pub fn init_root(
    name: &str,
    passphrase: &str,
    today: NaiveDate,
    kdf: KdfParams,
    suite: Suite,
) -> Result<RootKeyFile, KeyringError> {
    let root = RootKey {
        name: name.to_owned(),
        key: SigningKey::generate_in(suite)?,
        valid_from: today,
        valid_until: today + Months::new(12 * 20),
    };
    Ok(RootKeyFile {
        anchor: root.anchor(),
        sealed: keystore::seal_in(
            Cipher::of(suite),
            ROOT_KEY,
            root.key.pkcs8(),
            passphrase,
            kdf,
        )?,
    })
}

impl RootKeyFile {
    pub fn unlock(&self, passphrase: &str) -> Result<RootKey, KeyringError> {
        let pkcs8 = self.sealed.open(ROOT_KEY, passphrase)?;
        let key = SigningKey::from_pkcs8_in(self.anchor.suite, &pkcs8)?;
        if key.public_key() != self.anchor.public_key {
            return Err(KeyringError::Malformed(
                "root key does not match its anchor".into(),
            ));
        }
        Ok(RootKey {
            name: self.anchor.name.clone(),
            key,
            valid_from: self.anchor.valid_from,
            valid_until: self.anchor.valid_until,
        })
    }
}

/// Signs a trust list with the province root, offline (`ecardd keys root
/// sign-trust-list`): what a station needs before it changes its anchors or
/// revokes a document signer from the feed (docs/SYNC.md, "Trust list").
pub fn sign_trust_list(
    root: &RootKeyFile,
    passphrase: &str,
    list: TrustList,
    number: u64,
) -> Result<ecard_sync_protocol::trust::SignedTrustList, KeyringError> {
    let key = root.unlock(passphrase)?;
    ecard_sync_protocol::trust::NumberedTrustList::new(number, list)
        .sign(&key.key)
        .map_err(|e| KeyringError::Malformed(e.to_string()))
}

/// What may be shown about the station's keys (never the secrets).
#[derive(Debug, Clone, Serialize)]
pub struct KeyStatus {
    pub master: bool,
    /// The master key's check value (KCV, `MasterKey::check_value`), recorded at
    /// `keys init`: compared with the card vendor's. `None` for keys made before it
    /// was recorded.
    pub master_check_value: Option<String>,
    pub signer: Option<SignerInfo>,
    pub trust: Vec<TrustAnchor>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SignerInfo {
    pub subject: String,
    pub issuer_key_id: String,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
}

/// Generates the bureau master key and a document-signer key certified by `root`,
/// seals both under `passphrase`, and trusts the root. Refuses to replace existing keys.
/// What a station's keys are made from.
pub struct NewStationKeys<'a> {
    /// The bureau named as the signer certificate's subject.
    pub bureau: &'a str,
    pub root: &'a RootKey,
    pub passphrase: &'a str,
    pub today: NaiveDate,
    pub kdf: KdfParams,
    /// The bureau's master key when it already has one (a second station).
    pub existing_master: Option<&'a MasterKey>,
}

pub fn init_station(
    store: &Store,
    actor: &str,
    new: NewStationKeys<'_>,
) -> Result<KeyStatus, KeyringError> {
    let NewStationKeys {
        bureau,
        root,
        passphrase,
        today,
        kdf,
        existing_master,
    } = new;
    if status(store)?.master {
        return Err(KeyringError::AlreadyInitialised);
    }
    // The station runs its root's suite: an SM province gets SM2 signers and a
    // 16-byte SM4 master key.
    let suite = root.key.suite();
    // A bureau has one master key for all its stations (its blank cards are
    // ordered with management keys derived from it): the second station imports it.
    let master: zeroize::Zeroizing<Vec<u8>> = match existing_master {
        Some(m) => zeroize::Zeroizing::new(m.expose().to_vec()),
        None => {
            let len = match suite {
                Suite::P256 => 32,
                Suite::Sm => 16,
            };
            let mut fresh = zeroize::Zeroizing::new(vec![0u8; len]);
            SystemRandom::new()
                .fill(fresh.as_mut_slice())
                .map_err(|_| KeyringError::Random)?;
            fresh
        }
    };
    let signer_key = SigningKey::generate_in(suite)?;
    let cert = root.issue_signer(
        bureau,
        &signer_key.public_key(),
        today,
        (today + Months::new(12 * 10)).min(root.valid_until),
    )?;
    // The same certificate as X.509, for PIV cards and the tools that read them
    // (docs/PROFILE-PIV.md §3): P-256 only, as the PIV family is.
    let signer_x509 = match suite {
        Suite::P256 => Some(
            card_profile::x509::signer_certificate(root, &cert)
                .map_err(|e| KeyringError::Malformed(e.to_string()))?,
        ),
        Suite::Sm => None,
    };
    let check_value = MasterKey::from_bytes(master.as_slice())
        .and_then(|m| m.in_suite(suite))
        .map_err(|e| KeyringError::Malformed(e.to_string()))?
        .check_value();
    // Keys at rest in the suite's cipher: SM4-GCM for an SM station.
    let cipher = Cipher::of(suite);
    let sealed_master = keystore::seal_in(cipher, MASTER_KEY, master.as_slice(), passphrase, kdf)?;
    let sealed_signer = keystore::seal_in(cipher, SIGNER_KEY, signer_key.pkcs8(), passphrase, kdf)?;
    let anchor = root.anchor();
    store.write(actor, |tx| {
        for (name, sealed, public) in [
            // The master's check value is its public part: `keys status` shows it
            // without the passphrase, to compare with the vendor's.
            ("master", &sealed_master, Some(check_value.clone())),
            ("signer", &sealed_signer, Some(hex::encode(&cert.raw))),
        ] {
            store::insert_sealed_key(tx, name, &serde_json::to_string(sealed)?, public.as_deref())?;
        }
        add_anchor(tx, &anchor)?;
        if let Some(der) = &signer_x509 {
            tx.set_setting(SIGNER_X509, &hex::encode(der))?;
        }
        tx.audit(
            "keys.initialised",
            bureau,
            json!({ "signer_subject": cert.subject, "root": hex::encode(anchor.key_id) }),
        )?;
        Ok(())
    })?;
    status(store)
}

/// Adds (or replaces) a trusted root.
pub fn add_anchor(tx: &mut store::Tx<'_>, anchor: &TrustAnchor) -> store::Result<()> {
    store::put_trust_anchor(tx, anchor)
}

/// Removes a root from the trust list; false when it was not on it.
pub fn remove_anchor(tx: &mut store::Tx<'_>, key_id: &str) -> store::Result<bool> {
    store::delete_trust_anchor(tx, key_id)
}

/// Setting: the number of the root-signed trust list last applied from the feed
/// (docs/SYNC.md); a list must carry a higher one.
pub const TRUST_LIST_NUMBER: &str = "trust.list_number";

/// The number of the root-signed trust list applied last (None: only the anchors
/// installed at `keys init`).
pub fn trust_list_number(conn: &rusqlite::Connection) -> store::Result<Option<u64>> {
    Ok(store::setting_in(conn, TRUST_LIST_NUMBER)?.and_then(|v| v.parse().ok()))
}
/// Setting: the revoked document signers of that list (JSON, `[RevokedSigner]`).
pub const REVOKED_SIGNERS: &str = "trust.revoked_signers";

/// Setting: other bureaus' document-signer certificates from the feed (JSON, hex
/// strings; issue #16): what a seal printed at another bureau is checked with.
pub const DOCUMENT_SIGNERS: &str = "trust.document_signers";
/// At most this many are kept (a province has a few hundred bureaus): the feed
/// cannot grow the setting, or the /check page that carries them, without bound.
pub const MAX_DOCUMENT_SIGNERS: usize = 5000;

/// The document signers learnt from the feed, as stored (not yet checked against
/// the roots: every use checks the chain on the day a seal was signed).
pub fn document_signers_in(c: &rusqlite::Connection) -> store::Result<Vec<SignerCertificate>> {
    Ok(stored_signer_hex(c)?
        .iter()
        .filter_map(|h| hex::decode(h).ok())
        .filter_map(|raw| SignerCertificate::from_tlv(&raw).ok())
        .collect())
}

fn stored_signer_hex(c: &rusqlite::Connection) -> store::Result<Vec<String>> {
    Ok(match store::setting_in(c, DOCUMENT_SIGNERS)? {
        Some(json) => serde_json::from_str(&json)?,
        None => Vec::new(),
    })
}

/// Keeps a document signer from the feed; false when it was known already or the
/// list is full.
pub fn add_document_signer(
    tx: &mut store::Tx<'_>,
    cert: &SignerCertificate,
) -> store::Result<bool> {
    let mut held = stored_signer_hex(tx.conn())?;
    let hex = hex::encode(&cert.raw);
    if held.contains(&hex) || held.len() >= MAX_DOCUMENT_SIGNERS {
        return Ok(false);
    }
    held.push(hex);
    tx.set_setting(DOCUMENT_SIGNERS, &serde_json::to_string(&held)?)?;
    Ok(true)
}

/// True when `cert` was signed by one of `trust`'s roots (dates and revocation
/// are the checker's, on the day of the signature): the signers worth carrying.
pub fn chains_to(trust: &TrustList, cert: &SignerCertificate) -> bool {
    trust.anchors.iter().any(|a| {
        a.key_id == cert.issuer
            && card_profile::pki::key_id(&a.public_key) == a.key_id
            && card_profile::pki::verify_signature(&a.public_key, &cert.body, &cert.signature)
    })
}

pub fn trust_list(store: &Store) -> Result<TrustList, KeyringError> {
    Ok(store.read(trust_list_in)?)
}

/// The trust list as stored: the anchors and the revoked signers.
pub fn trust_list_in(c: &rusqlite::Connection) -> store::Result<TrustList> {
    let mut list = TrustList::new(anchors_in(c)?);
    if let Some(json) = store::setting_in(c, REVOKED_SIGNERS)? {
        list.revoked_signers = serde_json::from_str(&json)?;
    }
    Ok(list)
}

fn anchors_in(c: &rusqlite::Connection) -> store::Result<Vec<TrustAnchor>> {
    let texts = store::trust_anchor_texts(c)?;
    Ok(texts
        .iter()
        .map(|t| serde_json::from_str(t))
        .collect::<Result<_, _>>()?)
}

fn anchors(store: &Store) -> Result<Vec<TrustAnchor>, KeyringError> {
    Ok(store.read(anchors_in)?)
}

fn sealed(store: &Store, name: &str) -> Result<Option<(SealedKey, Option<String>)>, KeyringError> {
    let row = store.read(|c| store::sealed_key(c, name))?;
    row.map(|(s, p)| Ok((SealedKey::from_json(&s)?, p)))
        .transpose()
}

fn signer_certificate(public: Option<String>) -> Result<SignerCertificate, KeyringError> {
    let raw = hex::decode(public.unwrap_or_default())
        .map_err(|e| KeyringError::Malformed(e.to_string()))?;
    SignerCertificate::from_tlv(&raw).map_err(|e| KeyringError::Malformed(e.to_string()))
}

/// This station's document-signer certificate as stored at `keys init` (readable
/// without the passphrase: it is public), or `None` before it.
pub fn own_signer_certificate(store: &Store) -> Result<Option<SignerCertificate>, KeyringError> {
    sealed(store, "signer")?
        .map(|(_, public)| signer_certificate(public))
        .transpose()
}

/// The reviewing body (发证机关) this station writes to cards: the bureau its document
/// signer was certified for at `keys init` (the signer certificate's subject), so the
/// name on a card and the key that signs it cannot disagree. `None` before keys init.
pub fn bureau(store: &Store) -> Result<Option<String>, KeyringError> {
    sealed(store, "signer")?
        .map(|(_, public)| signer_certificate(public).map(|c| c.subject))
        .transpose()
}

pub fn status(store: &Store) -> Result<KeyStatus, KeyringError> {
    let stored_master = sealed(store, "master")?;
    let master = stored_master.is_some();
    let master_check_value = stored_master.and_then(|(_, kcv)| kcv);
    let signer = match sealed(store, "signer")? {
        Some((_, public)) => {
            let cert = signer_certificate(public)?;
            Some(SignerInfo {
                subject: cert.subject,
                issuer_key_id: hex::encode(cert.issuer),
                valid_from: cert.valid_from,
                valid_until: cert.valid_until,
            })
        }
        None => None,
    };
    Ok(KeyStatus {
        master,
        master_check_value,
        signer,
        trust: anchors(store)?,
    })
}

/// The bureau master key alone (for `keys export-master`, and `unlock`), in the
/// suite of the station's signer certificate.
pub fn master_key(store: &Store, passphrase: &str) -> Result<MasterKey, KeyringError> {
    let (sealed_master, _) = sealed(store, "master")?.ok_or(KeyringError::NotInitialised)?;
    let suite = match sealed(store, "signer")? {
        Some((_, public)) => signer_certificate(public)?.suite,
        None => Suite::P256,
    };
    let bytes = sealed_master.open(MASTER_KEY, passphrase)?;
    MasterKey::from_bytes(&bytes)
        .and_then(|m| m.in_suite(suite))
        .map_err(|e| KeyringError::Malformed(e.to_string()))
}

/// Opens the sealed keys with the passphrase, for this process's lifetime.
pub fn unlock(store: &Store, passphrase: &str) -> Result<(StationKeys, TrustList), KeyringError> {
    let master = master_key(store, passphrase)?;
    let (sealed_signer, public) = sealed(store, "signer")?.ok_or(KeyringError::NotInitialised)?;
    let signer_pkcs8 = sealed_signer.open(SIGNER_KEY, passphrase)?;
    let certificate = signer_certificate(public)?;
    let signer = DocumentSigner::new(
        SigningKey::from_pkcs8_in(certificate.suite, &signer_pkcs8)?,
        certificate,
    )?;
    let signer = match signer_x509(store, &signer.certificate)? {
        Some(der) => signer.with_x509(der),
        None => signer,
    };
    Ok((StationKeys { master, signer }, trust_list(store)?))
}

/// The setting that holds the document signer's X.509 certificate (hex DER).
pub const SIGNER_X509: &str = "signer_x509";

/// The signer's X.509 certificate, when the station has one for this very key.
fn signer_x509(
    store: &Store,
    certificate: &SignerCertificate,
) -> Result<Option<Vec<u8>>, KeyringError> {
    let Some(text) = store.setting(SIGNER_X509)? else {
        return Ok(None);
    };
    let der = hex::decode(text.trim())
        .map_err(|_| KeyringError::Malformed("signer X.509 certificate".into()))?;
    let key = card_profile::x509::CardAuthCertificate::parse(&der)
        .map_err(|e| KeyringError::Malformed(e.to_string()))?
        .chip_key;
    if key != certificate.public_key {
        return Err(KeyringError::Malformed(
            "the signer's X.509 certificate is for another key".into(),
        ));
    }
    Ok(Some(der))
}

/// Makes (or makes again) the signer's X.509 certificate with the root key, for a
/// station whose keys were made before PIV cards were supported
/// (`ecardd keys signer-x509`).
pub fn certify_signer_x509(
    store: &Store,
    actor: &str,
    root: &RootKey,
) -> Result<Vec<u8>, KeyringError> {
    let (_, public) = sealed(store, "signer")?.ok_or(KeyringError::NotInitialised)?;
    let certificate = signer_certificate(public)?;
    if certificate.issuer != card_profile::pki::key_id(&root.key.public_key()) {
        return Err(KeyringError::Malformed(
            "this root did not certify the station's signer".into(),
        ));
    }
    let der = card_profile::x509::signer_certificate(root, &certificate)
        .map_err(|e| KeyringError::Malformed(e.to_string()))?;
    store.write(actor, |tx| {
        tx.set_setting(SIGNER_X509, &hex::encode(&der))?;
        tx.audit(
            "keys.signer_x509",
            &certificate.subject,
            json!({ "root": hex::encode(certificate.issuer) }),
        )?;
        Ok(())
    })?;
    Ok(der)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> KdfParams {
        KdfParams::new(256, 1, 1).unwrap()
    }

    fn spec<'a>(bureau: &'a str, root: &'a RootKey) -> NewStationKeys<'a> {
        NewStationKeys {
            bureau,
            root,
            passphrase: "station-passphrase",
            today: day(),
            kdf: cheap(),
            existing_master: None,
        }
    }

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    #[test]
    fn init_then_unlock_gives_a_signer_the_trust_list_accepts() {
        let store = Store::open_in_memory(ecard_clock::Clock::system()).unwrap();
        let root_file =
            init_root("测试省根", "root-passphrase-1", day(), cheap(), Suite::P256).unwrap();
        let root = root_file.unlock("root-passphrase-1").unwrap();
        let st = init_station(&store, "t", spec("测试市司法局", &root)).unwrap();
        assert!(st.master);
        assert_eq!(st.signer.as_ref().unwrap().subject, "测试市司法局");
        assert_eq!(st.trust.len(), 1);
        let (keys, trust) = unlock(&store, "station-passphrase").unwrap();
        assert!(trust.check_signer(&keys.signer.certificate, day()).is_ok());
        assert_eq!(keys.master.expose().len(), 32);

        // A second station of the same bureau imports the master key.
        let second = Store::open_in_memory(ecard_clock::Clock::system()).unwrap();
        let mut s2 = spec("测试市司法局", &root);
        s2.existing_master = Some(&keys.master);
        init_station(&second, "t", s2).unwrap();
        let (keys2, _) = unlock(&second, "station-passphrase").unwrap();
        assert_eq!(keys2.master.expose(), keys.master.expose());
    }

    /// An SM province (#17): the root, the station's signer and its master key are
    /// all in the SM suite, survive sealing and unlocking, and chain.
    #[test]
    fn an_sm_root_gives_an_sm_station() {
        let store = Store::open_in_memory(ecard_clock::Clock::system()).unwrap();
        let root_file =
            init_root("国密省根", "root-passphrase-1", day(), cheap(), Suite::Sm).unwrap();
        assert_eq!(root_file.anchor.suite, Suite::Sm);
        // The anchor's JSON names its suite, so a station reading it later knows it.
        let json = serde_json::to_string(&root_file).unwrap();
        let back: RootKeyFile = serde_json::from_str(&json).unwrap();
        let root = back.unlock("root-passphrase-1").unwrap();
        assert_eq!(root.key.suite(), Suite::Sm);
        let st = init_station(&store, "t", spec("国密市司法局", &root)).unwrap();
        assert_eq!(st.trust[0].suite, Suite::Sm);
        let (keys, trust) = unlock(&store, "station-passphrase").unwrap();
        assert_eq!(keys.signer.certificate.suite, Suite::Sm);
        assert_eq!(keys.signer.key.suite(), Suite::Sm);
        assert_eq!(keys.master.suite(), Suite::Sm);
        assert_eq!(keys.master.expose().len(), 16);
        let (master_sealed, _) = sealed(&store, "master").unwrap().unwrap();
        assert!(master_sealed.to_json().unwrap().contains("sm4-gcm"));
        assert!(trust.check_signer(&keys.signer.certificate, day()).is_ok());
        // The check value shown at `keys status` is SM4's, the one unlocking gives.
        assert_eq!(st.master_check_value, Some(keys.master.check_value()));
    }

    #[test]
    fn wrong_passphrase_and_second_init_are_refused() {
        let store = Store::open_in_memory(ecard_clock::Clock::system()).unwrap();
        let root = init_root("根", "root-passphrase-1", day(), cheap(), Suite::P256)
            .unwrap()
            .unlock("root-passphrase-1")
            .unwrap();
        init_station(&store, "t", spec("局", &root)).unwrap();
        assert!(matches!(
            unlock(&store, "wrong-pass"),
            Err(KeyringError::Keystore(KeystoreError::WrongPassphrase))
        ));
        assert!(matches!(
            init_station(&store, "t", spec("局", &root)),
            Err(KeyringError::AlreadyInitialised)
        ));
        assert!(matches!(
            init_root("根", "a-long-passphrase", day(), cheap(), Suite::P256)
                .unwrap()
                .unlock("q"),
            Err(KeyringError::Keystore(KeystoreError::WrongPassphrase))
        ));
    }

    #[test]
    fn unlock_before_init_says_so() {
        let store = Store::open_in_memory(ecard_clock::Clock::system()).unwrap();
        assert!(matches!(
            unlock(&store, "x"),
            Err(KeyringError::NotInitialised)
        ));
    }
}
