"""Personal data: normalisation, masking, encryption and keyed hashes."""

from __future__ import annotations

import pytest

from contacts.pii import (
    PIIError,
    PIIKeys,
    decrypt,
    encrypt,
    generate_key,
    lookup_hash,
    mask_email,
    mask_name,
    mask_phone,
    normalize_email,
    normalize_phone,
)


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "+86 138 1234 5678",
        "0086-138-1234-5678",
        "138-1234-5678",
        "１３８１２３４５６７８",
    ],
)
def test_mainland_mobile_numbers_normalise_to_eleven_digits(raw):
    assert normalize_phone(raw) == "13812345678"


@pytest.mark.parametrize("raw", ["12812345678", "1381234567", "138123456789", "028-8888888", "abc"])
def test_non_mobile_numbers_are_refused(raw):
    assert normalize_phone(raw) is None


def test_emails_normalise_and_malformed_ones_are_refused():
    assert normalize_email(" Zhang.San@Example.COM ") == "zhang.san@example.com"
    for bad in ("zhangsan", "a@b", "a@@b.com", "a b@c.com", "a..b@c.com", "@c.com"):
        assert normalize_email(bad) is None, bad


def test_masks_show_only_what_identifies_nobody():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_email("zhang@example.com") == "z***@example.com"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"


def test_ciphertext_decrypts_only_with_the_same_key():
    keys = PIIKeys.from_config({"PII_KEY": generate_key(), "SECRET_KEY": "x"})
    other = PIIKeys.from_config({"PII_KEY": generate_key(), "SECRET_KEY": "x"})
    blob = encrypt(keys, "13812345678")
    assert b"13812345678" not in blob
    assert encrypt(keys, "13812345678") != blob
    assert decrypt(keys, blob) == "13812345678"
    with pytest.raises(PIIError):
        decrypt(other, blob)
    with pytest.raises(PIIError):
        decrypt(keys, blob[:-1] + bytes([blob[-1] ^ 1]))


def test_in_development_keys_derive_from_secret_key_when_pii_key_is_empty():
    a = PIIKeys.from_config({"PII_KEY": "", "SECRET_KEY": "one", "DEVELOPMENT": True})
    b = PIIKeys.from_config({"PII_KEY": "", "SECRET_KEY": "one", "TESTING": True})
    c = PIIKeys.from_config({"PII_KEY": "", "SECRET_KEY": "two", "DEBUG": True})
    assert a == b != c
    assert a.encryption != a.lookup


def test_outside_development_an_empty_pii_key_is_never_derived_from_secret_key():
    with pytest.raises(ValueError, match="PII_KEY: not set; expected urlsafe base64 of 32"):
        PIIKeys.from_config({"PII_KEY": "", "SECRET_KEY": "x" * 64})


def test_previous_keys_still_decrypt_but_only_the_current_key_encrypts():
    old, new = generate_key(), generate_key()
    before = PIIKeys.from_config({"PII_KEY": old})
    after = PIIKeys.from_config({"PII_KEY": new, "PII_PREVIOUS_KEYS": (old,)})
    blob = encrypt(before, "张三")
    assert decrypt(after, blob) == "张三"
    with pytest.raises(PIIError):
        decrypt(before, encrypt(after, "李四"))
    assert decrypt(PIIKeys.from_config({"PII_KEY": new}), encrypt(after, "李四")) == "李四"


def test_a_malformed_previous_key_names_its_setting():
    with pytest.raises(ValueError, match="PII_PREVIOUS_KEYS"):
        PIIKeys.from_config({"PII_KEY": generate_key(), "PII_PREVIOUS_KEYS": ("c2hvcnQ",)})


def test_lookup_hash_is_keyed_and_separates_phone_from_email():
    keys = PIIKeys.from_config({"PII_KEY": generate_key()})
    other = PIIKeys.from_config({"PII_KEY": generate_key()})
    assert lookup_hash(keys, "phone", "13812345678") == lookup_hash(keys, "phone", "13812345678")
    assert lookup_hash(keys, "phone", "13812345678") != lookup_hash(other, "phone", "13812345678")
    assert lookup_hash(keys, "phone", "x") != lookup_hash(keys, "email", "x")


def test_pii_key_of_wrong_length_names_the_setting():
    with pytest.raises(ValueError, match="PII_KEY"):
        PIIKeys.from_config({"PII_KEY": "c2hvcnQ", "SECRET_KEY": "x"})
