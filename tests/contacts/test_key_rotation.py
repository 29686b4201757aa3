"""Rotating PII_KEY: old ciphertexts still open through PII_PREVIOUS_KEYS, `minsheng contacts
rekey` moves contacts, waiting uploads and opt-outs to the new key, and a second run does
nothing."""

from __future__ import annotations

from sqlalchemy import select

from contacts.import_jobs import start_import
from contacts.key_rotation import rekey_contacts
from contacts.lists import (
    contact_details,
    get_or_create_list,
    import_contacts,
    is_opted_out,
    opt_out_address,
    opt_out_contact,
)
from contacts.models import Contact, ContactUpload
from contacts.pii import PIIError, PIIKeys, decrypt_bytes, generate_key, lookup_hash
from minsheng.audit import AuditEvent
from tests.invitations.builders import csv_bytes, people

OLD, NEW = generate_key(), generate_key()


def old_keys() -> PIIKeys:
    return PIIKeys.from_config({"PII_KEY": OLD})


def rotated_keys() -> PIIKeys:
    return PIIKeys.from_config({"PII_KEY": NEW, "PII_PREVIOUS_KEYS": (OLD,)})


def contacts_of(session, contact_list):
    query = select(Contact).where(Contact.list_id == contact_list.id).order_by(Contact.id)
    return list(session.scalars(query))


def listed_under_old_key(session, name="rotation", count=3):
    contact_list = get_or_create_list(session, name)
    import_contacts(session, contact_list, csv_bytes(people(count)), "r.csv", keys=old_keys())
    session.flush()
    return contact_list


def test_rekey_moves_contacts_to_the_new_key_and_keeps_opt_outs_matching(session):
    contact_list = listed_under_old_key(session)
    first = contacts_of(session, contact_list)[0]
    opt_out_contact(session, first)
    opt_out_address(session, "email", "resident2@example.com", keys=old_keys())

    counts = rekey_contacts(session, rotated_keys())

    assert (counts.contacts, counts.contacts_current, counts.opt_outs) == (3, 0, 3)
    only_new = PIIKeys.from_config({"PII_KEY": NEW})
    contacts = contacts_of(session, contact_list)
    assert [contact_details(c, only_new).phone for c in contacts] == [
        "13900000000",
        "13900000001",
        "13900000002",
    ]
    assert contacts[0].phone_hash == lookup_hash(only_new, "phone", "13900000000")
    assert [is_opted_out(session, c) for c in contacts] == [True, False, True]
    # An address seen again after the rotation is recognised as opted out.
    assert not opt_out_address(session, "phone", "13900000000", keys=only_new)
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "contacts.rekey"))
    assert event is not None


def test_a_second_rekey_changes_nothing(session):
    contact_list = listed_under_old_key(session, "twice")
    rekey_contacts(session, rotated_keys())
    blobs = [(c.name_enc, c.phone_enc, c.phone_hash) for c in contacts_of(session, contact_list)]

    again = rekey_contacts(session, rotated_keys())

    assert (again.contacts, again.contacts_current, again.opt_outs) == (0, 3, 0)
    after = [(c.name_enc, c.phone_enc, c.phone_hash) for c in contacts_of(session, contact_list)]
    assert after == blobs


def test_a_waiting_upload_is_re_encrypted_too(session):
    contact_list = get_or_create_list(session, "waiting")
    data = csv_bytes(people(2))
    job = start_import(session, contact_list, data, "w.csv", keys=old_keys())

    counts = rekey_contacts(session, rotated_keys())

    assert (counts.uploads, counts.uploads_current) == (1, 0)
    stored = session.scalar(select(ContactUpload).where(ContactUpload.job_id == job.id))
    assert decrypt_bytes(PIIKeys.from_config({"PII_KEY": NEW}), stored.data_enc) == data


def test_without_the_previous_key_rekey_refuses_and_changes_nothing(session):
    contact_list = listed_under_old_key(session, "lost")
    before = [c.phone_enc for c in contacts_of(session, contact_list)]
    try:
        rekey_contacts(session, PIIKeys.from_config({"PII_KEY": NEW}))
    except PIIError as exc:
        assert "PII_PREVIOUS_KEYS" in str(exc)
    else:
        raise AssertionError("rekey without the old key must fail")
    assert [c.phone_enc for c in contacts_of(session, contact_list)] == before


def test_rekey_command_prints_row_counts(make_app, bind_app, session):
    listed_under_old_key(session, "cli", count=2)
    app = bind_app(make_app(PII_KEY=NEW, PII_PREVIOUS_KEYS=(OLD,)))

    with app.app_context():
        first = app.test_cli_runner().invoke(args=["contacts", "rekey"])
        second = app.test_cli_runner().invoke(args=["contacts", "rekey"])

    assert first.exit_code == 0, first.output
    assert "contacts: 2 re-encrypted, 0 already current" in first.output
    assert "contacts: 0 re-encrypted, 2 already current" in second.output
