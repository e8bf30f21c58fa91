//! Distinguished names of the chain (docs/PROFILE-PIV.md §7):
//! root `C=CN, O=<root name>, CN=<root name>`, document signer
//! `C=CN, O=<root name>, CN=<signer subject>`, card `CN=<certificate number>,
//! serialNumber=<GUID, 32 upper-case hex digits>`. One attribute per RDN, in that
//! order. countryName and serialNumber are PrintableString (X.520 says so); the
//! others UTF8String, since bureau names are Chinese.

use super::oids::{COMMON_NAME, COUNTRY_NAME, ORGANIZATION_NAME, SERIAL_NUMBER};
use super::X509Error;
use const_oid::db::rfc4519::{LOCALITY_NAME, ORGANIZATIONAL_UNIT_NAME, ST};
use const_oid::ObjectIdentifier;
use der::asn1::{Ia5StringRef, PrintableStringRef, SetOfVec, TeletexStringRef, Utf8StringRef};
use der::{Any, Tag, Tagged};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};

/// Longest value accepted for a DN attribute ecard writes: X.520's upper bound
/// for commonName and organizationName (ub-common-name, ub-organization-name 64).
const UB_NAME: usize = 64;

fn rdn(oid: ObjectIdentifier, value: Any) -> Result<RelativeDistinguishedName, X509Error> {
    let mut set = SetOfVec::new();
    set.insert(AttributeTypeAndValue { oid, value })?;
    Ok(RelativeDistinguishedName(set))
}

fn utf8(oid: ObjectIdentifier, s: &str) -> Result<RelativeDistinguishedName, X509Error> {
    if s.is_empty() || s.chars().count() > UB_NAME {
        return Err(X509Error::Malformed("a name must be 1 to 64 characters"));
    }
    rdn(oid, Any::encode_from(&Utf8StringRef::new(s)?)?)
}

fn printable(oid: ObjectIdentifier, s: &str) -> Result<RelativeDistinguishedName, X509Error> {
    rdn(oid, Any::encode_from(&PrintableStringRef::new(s)?)?)
}

/// `C=CN, O=<organization>, CN=<common_name>`: the root's and the signer's names.
pub(super) fn authority(organization: &str, common_name: &str) -> Result<Name, X509Error> {
    Ok(RdnSequence(vec![
        printable(COUNTRY_NAME, "CN")?,
        utf8(ORGANIZATION_NAME, organization)?,
        utf8(COMMON_NAME, common_name)?,
    ]))
}

/// `CN=<certificate number>, serialNumber=<GUID hex, upper case>`: the card's name.
pub(super) fn card(certificate_number: &str, guid: &[u8; 16]) -> Result<Name, X509Error> {
    Ok(RdnSequence(vec![
        utf8(COMMON_NAME, certificate_number)?,
        printable(SERIAL_NUMBER, &hex::encode_upper(guid))?,
    ]))
}

/// The value of the first attribute `oid` in `name`, if it is one of the string
/// types a directory name uses. Names from other issuers may use any of them.
pub(super) fn attribute(name: &Name, oid: ObjectIdentifier) -> Option<String> {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid == oid)
        .and_then(|atv| text(&atv.value))
}

fn text(value: &Any) -> Option<String> {
    let s = match value.tag() {
        Tag::Utf8String => value.decode_as::<Utf8StringRef<'_>>().ok()?.to_string(),
        Tag::PrintableString => value
            .decode_as::<PrintableStringRef<'_>>()
            .ok()?
            .to_string(),
        Tag::Ia5String => value.decode_as::<Ia5StringRef<'_>>().ok()?.to_string(),
        Tag::TeletexString => value.decode_as::<TeletexStringRef<'_>>().ok()?.to_string(),
        _ => return None,
    };
    Some(s)
}

/// A name for people: its attributes in the order of the certificate (most
/// significant first, as `openssl x509 -text` shows them, not RFC 4514's reverse
/// order), `label=value` joined by ", ". A value that is not a string shows as
/// `#` and its DER in hex.
pub(super) fn display(name: &Name) -> String {
    let mut parts = Vec::new();
    for atv in name.0.iter().flat_map(|rdn| rdn.0.iter()) {
        let label = match atv.oid {
            COUNTRY_NAME => "C".to_string(),
            ORGANIZATION_NAME => "O".to_string(),
            COMMON_NAME => "CN".to_string(),
            SERIAL_NUMBER => "serialNumber".to_string(),
            ORGANIZATIONAL_UNIT_NAME => "OU".to_string(),
            LOCALITY_NAME => "L".to_string(),
            ST => "ST".to_string(),
            other => other.to_string(),
        };
        let value = text(&atv.value).unwrap_or_else(|| {
            format!(
                "#{}",
                hex::encode(der::Encode::to_der(&atv.value).unwrap_or_default())
            )
        });
        parts.push(format!("{label}={value}"));
    }
    parts.join(", ")
}

/// The common name of `name`.
pub(super) fn common_name(name: &Name) -> Option<String> {
    attribute(name, COMMON_NAME)
}

/// The GUID a card name carries in serialNumber: exactly 32 hex digits.
pub(super) fn guid(name: &Name) -> Option<[u8; 16]> {
    let s = attribute(name, SERIAL_NUMBER)?;
    hex16(&s)
}

/// 32 hex digits (either case) → 16 bytes.
pub(super) fn hex16(s: &str) -> Option<[u8; 16]> {
    if s.len() != 32 {
        return None;
    }
    hex::decode(s).ok()?.try_into().ok()
}

/// `urn:uuid:xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, lower case as RFC 4122 §3 asks.
pub(super) fn uuid_urn(guid: &[u8; 16]) -> String {
    let h = hex::encode(guid);
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// The GUID of a `urn:uuid:` URI (either case), if that is what it is.
pub(super) fn guid_of_urn(uri: &str) -> Option<[u8; 16]> {
    let rest = uri
        .get(..9)?
        .eq_ignore_ascii_case("urn:uuid:")
        .then(|| &uri[9..])?;
    let parts: Vec<&str> = rest.split('-').collect();
    let lens: Vec<usize> = parts.iter().map(|p| p.len()).collect();
    if lens != [8, 4, 4, 4, 12] {
        return None;
    }
    hex16(&parts.concat())
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::Encode;

    #[test]
    fn a_uuid_urn_round_trips_and_only_that_form_is_read() {
        let g: [u8; 16] = core::array::from_fn(|i| (i as u8) * 17);
        let urn = uuid_urn(&g);
        assert_eq!(urn, "urn:uuid:00112233-4455-6677-8899-aabbccddeeff");
        assert_eq!(guid_of_urn(&urn), Some(g));
        assert_eq!(guid_of_urn(&urn.to_uppercase()), Some(g));
        assert_eq!(
            guid_of_urn("urn:uuid:00112233445566778899aabbccddeeff"),
            None
        );
        assert_eq!(guid_of_urn("urn:uuid:"), None);
        assert_eq!(guid_of_urn("ur"), None);
        assert_eq!(
            guid_of_urn("urn:uuid:0011223-34455-6677-8899-aabbccddeeff"),
            None
        );
    }

    #[test]
    fn a_card_name_carries_the_number_and_the_guid_and_reads_back() {
        let g = [0xAB; 16];
        let name = card("川执2026000123", &g).expect("name");
        assert_eq!(common_name(&name).as_deref(), Some("川执2026000123"));
        assert_eq!(guid(&name), Some(g));
        assert_eq!(
            display(&name),
            format!("CN=川执2026000123, serialNumber={}", "AB".repeat(16))
        );
        assert_eq!(
            display(&authority("四川省司法厅", "成都市司法局").expect("name")),
            "C=CN, O=四川省司法厅, CN=成都市司法局"
        );
        // serialNumber is a PrintableString (tag 0x13), the CN a UTF8String (0x0C).
        let der = name.to_der().expect("der");
        let hexed = hex::encode(&der);
        assert!(hexed.contains("0603550405" /* 2.5.4.5 */), "{hexed}");
        assert!(hexed.contains(&format!("1320{}", hex::encode("AB".repeat(16)))));
    }

    #[test]
    fn an_empty_or_overlong_name_is_refused() {
        assert!(authority("", "x").is_err());
        assert!(authority("省", &"名".repeat(65)).is_err());
        assert!(authority("省", &"名".repeat(64)).is_ok());
    }
}
