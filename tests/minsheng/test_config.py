"""Settings: declared once, parsed from MINSHENG_* variables, refused with a useful message."""

from __future__ import annotations

import pytest

from minsheng.config import SETTINGS, load_settings
from minsheng.errors import InputError


def test_defaults_put_the_database_in_the_instance_folder(tmp_path):
    values = load_settings(environ={"MINSHENG_INSTANCE_PATH": str(tmp_path)})
    assert values["DATABASE_URL"] == f"sqlite:///{tmp_path / 'minsheng.sqlite'}"
    assert values["FILE_STORE"] == "local"
    assert values["FILE_STORE_DIR"] == str(tmp_path / "files")
    assert values["BROKER_URL"] == ""


def test_bad_value_names_variable_value_and_accepted_form():
    with pytest.raises(InputError) as caught:
        load_settings(environ={"MINSHENG_SMTP_PORT": "twenty-five", "MINSHENG_SMTP_STARTTLS": "si"})
    text = str(caught.value)
    assert "MINSHENG_SMTP_PORT: got 'twenty-five'; expected an integer port" in text
    assert "MINSHENG_SMTP_STARTTLS: got 'si'; expected true or false" in text


def test_secret_values_are_not_echoed_in_errors():
    with pytest.raises(InputError) as caught:
        load_settings(environ={"MINSHENG_SUPPRESSION_THRESHOLD": "x"})
    assert "got 'x'" in str(caught.value)


def test_redis_broker_is_also_the_result_backend():
    values = load_settings(environ={"MINSHENG_BROKER_URL": "redis://127.0.0.1:6379/0"})
    assert values["RESULT_BACKEND"] == "redis://127.0.0.1:6379/0"


def test_every_setting_says_what_it_means():
    for setting in SETTINGS:
        assert len(setting.help) > 15, setting.name


def test_config_show_masks_secrets(runner):
    result = runner.invoke(args=["config", "show"])
    assert result.exit_code == 0
    assert "MINSHENG_SECRET_KEY=***" in result.output
    assert "MINSHENG_DEFAULT_LOCALE=zh_CN" in result.output


def test_arrow_memory_pool_is_one_arrow_has():
    assert load_settings(environ={})["ARROW_MEMORY_POOL"] == "jemalloc"
    assert (
        load_settings(environ={"MINSHENG_ARROW_MEMORY_POOL": " System "})["ARROW_MEMORY_POOL"]
        == "system"
    )
    with pytest.raises(InputError) as caught:
        load_settings(environ={"MINSHENG_ARROW_MEMORY_POOL": "tcmalloc"})
    assert "expected jemalloc, mimalloc or system" in str(caught.value)


def test_the_s3_file_store_needs_a_bucket_and_an_unknown_store_is_named():
    with pytest.raises(InputError) as caught:
        load_settings(environ={"MINSHENG_FILE_STORE": "s3"})
    assert "MINSHENG_S3_BUCKET: empty; required when FILE_STORE is s3" in str(caught.value)
    with pytest.raises(InputError) as caught:
        load_settings(environ={"MINSHENG_FILE_STORE": "nfs"})
    assert "MINSHENG_FILE_STORE: got 'nfs'; expected local or s3" in str(caught.value)
    values = load_settings(environ={"MINSHENG_FILE_STORE": " S3 ", "MINSHENG_S3_BUCKET": "b"})
    assert (values["FILE_STORE"], values["S3_BUCKET"]) == ("s3", "b")
