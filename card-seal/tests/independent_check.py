#!/usr/bin/python3
"""A second checker of ecard seals, written from docs/SEAL.md and docs/PROFILE.md §4
alone, with Debian's python3-cryptography and python3-cbor2 (no ecard code).

    independent_check.py ROOT_PUBKEY_HEX SIGNER_CERT_HEX TODAY(YYYY-MM-DD) < seal.txt

Prints one JSON line: {"verdict": "genuine"|"forged"|"unconfirmed"|"not_a_seal", ...}.
"""
import datetime
import hashlib
import json
import sys

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


class Forged(Exception):
    pass


def b45decode(text):
    out = bytearray()
    for i in range(0, len(text), 3):
        group = text[i:i + 3]
        if len(group) == 1:
            raise Forged("base45 length")
        try:
            values = [ALPHABET.index(c) for c in group]
        except ValueError:
            raise Forged("base45 alphabet")
        n = sum(v * 45 ** k for k, v in enumerate(values))
        if len(group) == 3:
            if n > 0xFFFF:
                raise Forged("base45 overflow")
            out += n.to_bytes(2, "big")
        else:
            if n > 0xFF:
                raise Forged("base45 overflow")
            out.append(n)
    return bytes(out)


def tlv(data):
    """Yields (tag, value, whole encoding) of BER-TLV objects with 1- or 2-byte tags."""
    i = 0
    while i < len(data):
        start = i
        tag = data[i]
        i += 1
        if tag & 0x1F == 0x1F:
            tag = (tag << 8) | data[i]
            i += 1
        length = data[i]
        i += 1
        if length & 0x80:
            count = length & 0x7F
            length = int.from_bytes(data[i:i + count], "big")
            i += count
        yield tag, data[i:i + length], data[start:i + length]
        i += length


def signer_from_certificate(raw, root_pub):
    """PROFILE.md §4: 7F21 { 7F4E body, 5F37 signature }; returns (pubkey, from, until, subject)."""
    (tag, outer, _), = list(tlv(raw))
    assert tag == 0x7F21
    parts = list(tlv(outer))
    body_tag, body_value, body = parts[0]
    sig_tag, sig, _ = parts[1]
    assert body_tag == 0x7F4E and sig_tag == 0x5F37
    # The root signs the body with its tag and length included (PROFILE.md §4).
    verify(root_pub, body, sig)
    fields = {t: v for t, v, _ in tlv(body_value)}
    day = lambda b: datetime.datetime.strptime(b.decode(), "%Y%m%d").date()
    root_id = hashlib.sha256(root_pub).digest()[:8]
    if fields[0x42] != root_id:
        raise ValueError("signer certificate names another root")
    return fields[0x86], day(fields[0x5F25]), day(fields[0x5F24]), fields[0x5F20].decode()


def verify(pub, message, rs):
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), pub)
    der = encode_dss_signature(int.from_bytes(rs[:32], "big"), int.from_bytes(rs[32:], "big"))
    key.verify(der, message, ec.ECDSA(hashes.SHA256()))


def check(text, root_pub, signer_cert, today):
    text = text.strip()
    if not text.startswith("EC1:"):
        return {"verdict": "not_a_seal"}
    signer_pub, signer_from, signer_until, subject = signer_from_certificate(signer_cert, root_pub)
    try:
        raw = b45decode(text[4:])
        item = cbor2.loads(raw)
        if not isinstance(item, cbor2.CBORTag) or item.tag != 18 or len(item.value) != 4:
            raise Forged("not a COSE_Sign1")
        protected, unprotected, payload, signature = item.value
        if unprotected != {} or len(signature) != 64:
            raise Forged("unprotected header or signature length")
        header = cbor2.loads(protected)
        if set(header) != {1, 4} or header[1] != -7 or len(header[4]) != 4:
            raise Forged("protected header")
        if header[4] != hashlib.sha256(signer_pub).digest()[:4]:
            return {"verdict": "unconfirmed"}
        to_be_signed = cbor2.dumps(["Signature1", protected, b"ecard-seal/1", payload])
        try:
            verify(signer_pub, to_be_signed, signature)
        except InvalidSignature:
            raise Forged("signature")
        fields = cbor2.loads(payload)
        if list(fields) != list(range(1, 10)):
            raise Forged("payload keys")
        epoch = datetime.date(1970, 1, 1)
        days = lambda n: epoch + datetime.timedelta(days=n)
        issued_on = days(fields[7])
        if not (signer_from <= issued_on <= signer_until):
            raise Forged("signer out of validity")
        valid_from, valid_until = days(fields[5]), days(fields[6])
        validity = ("not_yet_valid" if today < valid_from
                    else "expired" if today > valid_until else "valid")
        return {
            "verdict": "genuine",
            "validity": validity,
            "signer": subject,
            "number": fields[1].decode("gb18030"),
            "name": fields[2].decode("gb18030"),
            "unit": fields[3].decode("gb18030"),
            "kind": fields[4],
            "valid_from": valid_from.isoformat(),
            "valid_until": valid_until.isoformat(),
            "issued_on": issued_on.isoformat(),
            "card_serial": fields[8].hex(),
            "photo_hash": fields[9].hex(),
        }
    except (Forged, ValueError, KeyError, TypeError, cbor2.CBORDecodeError) as why:
        return {"verdict": "forged", "why": str(why)}


def main():
    root_pub = bytes.fromhex(sys.argv[1])
    signer_cert = bytes.fromhex(sys.argv[2])
    today = datetime.date.fromisoformat(sys.argv[3])
    print(json.dumps(check(sys.stdin.read(), root_pub, signer_cert, today), ensure_ascii=False))


if __name__ == "__main__":
    main()
