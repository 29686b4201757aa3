"""Every setting minsheng reads, declared once: name, environment variable, type, default, meaning.

`load_settings()` is the only place that reads `os.environ`; the README table and the docker
compose test are generated from / checked against `SETTINGS`.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from minsheng.errors import InputError, Problem
from minsheng.files import FILE_STORES


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("expected one of 1/0, true/false, yes/no, on/off")


def _int(raw: str) -> int:
    return int(raw.strip())


def _count(raw: str) -> int:
    value = int(raw.strip())
    if value < 0:
        raise ValueError("expected an integer of at least 0")
    return value


def _positive_int(raw: str) -> int:
    value = int(raw.strip())
    if value < 1:
        raise ValueError("expected an integer of at least 1")
    return value


def _str(raw: str) -> str:
    return raw


def _rate(raw: str) -> str:
    """A rate such as "20 per minute" or "20/minute; 200/hour" (several limits all apply)."""
    from limits import parse_many

    parse_many(raw.strip())
    return raw.strip()


def _file_store(raw: str) -> str:
    value = raw.strip().lower()
    if value not in FILE_STORES:
        raise ValueError(f"expected one of {', '.join(FILE_STORES)}")
    return value


def _memory_pool(raw: str) -> str:
    value = raw.strip().lower()
    if value not in {"jemalloc", "mimalloc", "system"}:
        raise ValueError("expected jemalloc, mimalloc or system")
    return value


# The built-in SECRET_KEY: public (it is in this file), so accepted only in development and tests.
DEVELOPMENT_SECRET_KEY = "dev-insecure-change-me"
MIN_SECRET_KEY_LENGTH = 32
SECRET_KEY_ACCEPTED = (
    f"a random value of at least {MIN_SECRET_KEY_LENGTH} characters, e.g. the output of "
    '`python -c "import secrets; print(secrets.token_urlsafe(48))"`'
)
PII_KEY_ACCEPTED = (
    'urlsafe base64 of 32 random bytes, e.g. the output of `python -c "import base64, os; '
    'print(base64.urlsafe_b64encode(os.urandom(32)).decode())"`'
)


def decode_pii_key(raw: str) -> bytes:
    """The 32 bytes of a `PII_KEY` value; ValueError saying what is accepted otherwise."""
    try:
        key = base64.urlsafe_b64decode(raw.strip().encode("ascii") + b"=" * (-len(raw) % 4))
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise ValueError(f"expected {PII_KEY_ACCEPTED}") from exc
    if len(key) != 32:
        raise ValueError(f"decodes to {len(key)} bytes; expected {PII_KEY_ACCEPTED}")
    return key


def _pii_key(raw: str) -> str:
    if raw.strip():
        decode_pii_key(raw)
    return raw.strip()


def _pii_keys(raw: str) -> tuple[str, ...]:
    keys = tuple(part.strip() for part in raw.split(",") if part.strip())
    for key in keys:
        decode_pii_key(key)
    return keys


@dataclass(frozen=True)
class Setting:
    """One configuration value: `MINSHENG_<name>` in the environment, `<name>` in `app.config`."""

    name: str
    parse: Callable[[str], Any]
    default: Any
    help: str
    secret: bool = False
    accepted: str = ""

    @property
    def env(self) -> str:
        return f"MINSHENG_{self.name}"


def _default_instance() -> str:
    return str(Path.cwd() / "instance")


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "INSTANCE_PATH",
        _str,
        None,
        "Folder for the SQLite database, snapshots and the local file store (default: ./instance).",
        accepted="a directory path",
    ),
    Setting(
        "DATABASE_URL",
        _str,
        None,
        "SQLAlchemy URL of the database; default "
        "sqlite:///<INSTANCE_PATH>/minsheng.sqlite. Production: "
        "postgresql+psycopg://user:pass@host/db.",
        secret=True,
        accepted="an SQLAlchemy URL",
    ),
    Setting(
        "SECRET_KEY",
        _str,
        DEVELOPMENT_SECRET_KEY,
        "Signs sessions and CSRF tokens. Required: the app refuses to start with the built-in "
        f"development value or one shorter than {MIN_SECRET_KEY_LENGTH} characters, unless "
        "DEVELOPMENT is on.",
        secret=True,
        accepted=SECRET_KEY_ACCEPTED,
    ),
    Setting(
        "PII_KEY",
        _pii_key,
        "",
        "Encrypts contact details (name, phone, e-mail) at rest and keys their lookup hashes. "
        "Required: the app refuses to start without it unless DEVELOPMENT is on (then it is "
        'derived from SECRET_KEY). Rotation: README.md, "Rotating PII_KEY".',
        secret=True,
        accepted=PII_KEY_ACCEPTED,
    ),
    Setting(
        "PII_PREVIOUS_KEYS",
        _pii_keys,
        (),
        "Former PII_KEY values, comma-separated: still decrypt what they encrypted until "
        "`minsheng contacts rekey` has re-encrypted it under PII_KEY.",
        secret=True,
        accepted="empty, or PII_KEY values separated by commas",
    ),
    Setting(
        "DEVELOPMENT",
        _bool,
        False,
        "A developer machine or `make demo` (which turns it on): the built-in development "
        "SECRET_KEY is accepted and PII_KEY is derived from it, with a warning at start. Never "
        "in production: anyone can forge a session and decrypt contacts with those keys.",
        accepted="true or false",
    ),
    Setting(
        "BROKER_URL",
        _str,
        "",
        "Celery broker. Empty: tasks run in-process (embedded "
        "default). Production: redis://host:6379/0.",
        secret=True,
        accepted="empty or a Celery broker URL",
    ),
    Setting(
        "RESULT_BACKEND",
        _str,
        "",
        "Celery result backend; defaults to BROKER_URL when that is Redis.",
        secret=True,
    ),
    Setting(
        "BASE_URL",
        _str,
        "http://127.0.0.1:5000",
        "Public address used in invitation links, QR codes and e-mails.",
        accepted="an absolute http(s) URL",
    ),
    Setting(
        "DEFAULT_LOCALE",
        _str,
        "zh_CN",
        "Language of pages when the visitor has not chosen one.",
        accepted="zh_CN or en",
    ),
    Setting(
        "FILE_STORE",
        _file_store,
        "local",
        "Where reports, exports and uploaded files are kept, by key: local (a folder, "
        "FILE_STORE_DIR) or s3 (an S3-compatible object store: AWS S3, MinIO, Ceph). With more "
        "than one web node or worker, use s3 or a folder every node mounts.",
        accepted="local or s3",
    ),
    Setting(
        "FILE_STORE_DIR",
        _str,
        None,
        "Folder of the local file store (default: <INSTANCE_PATH>/files).",
        accepted="a directory path",
    ),
    Setting("S3_BUCKET", _str, "", "Bucket of the s3 file store; required when FILE_STORE=s3."),
    Setting(
        "S3_PREFIX",
        _str,
        "",
        "Prefix of every key in the bucket (e.g. minsheng/), so one bucket can hold several "
        "instances.",
    ),
    Setting(
        "S3_ENDPOINT_URL",
        _str,
        "",
        "Endpoint of an S3-compatible server such as MinIO (http://minio:9000; addressed "
        "path-style); empty: AWS S3.",
        accepted="empty or an http(s) URL",
    ),
    Setting("S3_REGION", _str, "", "Region of the bucket (e.g. us-east-1); empty: boto3 chooses."),
    Setting(
        "S3_ACCESS_KEY_ID",
        _str,
        "",
        "Access key of the s3 file store; empty: boto3 finds credentials itself (instance "
        "role, ~/.aws).",
        secret=True,
    ),
    Setting("S3_SECRET_ACCESS_KEY", _str, "", "Secret key for S3_ACCESS_KEY_ID.", secret=True),
    Setting(
        "CJK_FONT_FAMILY",
        _str,
        "Noto Sans CJK SC",
        "Font family used for Chinese text in "
        "PDF reports and charts (Debian package fonts-noto-cjk).",
    ),
    Setting(
        "TASK_TIME_LIMIT",
        _int,
        3600,
        "Seconds a background task may run before its worker stops it; Redis's visibility "
        "timeout is set longer, so a long task is never handed to a second worker.",
        accepted="an integer number of seconds",
    ),
    Setting(
        "JOB_LEASE_SECONDS",
        _int,
        300,
        "How long a running job holds its worker's lease without reporting progress; after "
        "that the job is taken as abandoned (its worker died) and queued again.",
        accepted="an integer number of seconds",
    ),
    Setting(
        "JOB_MAX_ATTEMPTS",
        _int,
        3,
        "How many times a job whose worker died is started before it fails with the reason.",
        accepted="an integer >= 1",
    ),
    Setting(
        "JOB_QUEUE_TIMEOUT_SECONDS",
        _int,
        1800,
        "A job still queued this long after its message was sent is sent again (a broker that "
        "lost its messages); tasks are safe to run twice.",
        accepted="an integer number of seconds",
    ),
    Setting(
        "JOB_REAP_SECONDS",
        _positive_int,
        60,
        "How often beat runs minsheng.reap_jobs, which queues again or fails the jobs whose "
        "lease expired; a dead worker's job waits at most JOB_LEASE_SECONDS plus this.",
        accepted="an integer number of seconds, at least 1",
    ),
    Setting(
        "OUTBOX_RELAY_SECONDS",
        _positive_int,
        30,
        "How often beat runs minsheng.relay_outbox, and how old an unsent outbox message must be "
        "before it sends it (a send after commit may still be under way before that).",
        accepted="an integer number of seconds, at least 1",
    ),
    Setting(
        "SUPPRESSION_THRESHOLD",
        _int,
        5,
        "Cells with fewer responses than this are suppressed in department-facing outputs.",
        accepted="an integer >= 1",
    ),
    Setting(
        "ARROW_MEMORY_POOL",
        _memory_pool,
        "jemalloc",
        "Arrow's memory allocator for summaries counted from Parquet snapshots; jemalloc "
        "returns freed row groups to the system more cheaply than Arrow's default (mimalloc).",
        accepted="jemalloc, mimalloc or system",
    ),
    Setting(
        "SMTP_HOST",
        _str,
        "localhost",
        "SMTP server for e-mail invitations and reports.",
    ),
    Setting(
        "SMTP_PORT",
        _int,
        25,
        "Port of the SMTP server (25, 465 or 587 usually).",
        accepted="an integer port",
    ),
    Setting("SMTP_USER", _str, "", "SMTP login name; empty means no authentication."),
    Setting("SMTP_PASSWORD", _str, "", "Password for SMTP_USER.", secret=True),
    Setting(
        "SMTP_STARTTLS",
        _bool,
        False,
        "Use STARTTLS on the SMTP connection.",
        accepted="true or false",
    ),
    Setting("MAIL_FROM", _str, "minsheng@localhost", "Sender address of outgoing e-mail."),
    Setting(
        "SMS_GATEWAY_URL",
        _str,
        "",
        "HTTP endpoint of the SMS gateway (empty: SMS channel disabled).",
        secret=True,
    ),
    Setting("SMS_GATEWAY_TOKEN", _str, "", "Bearer token for the SMS gateway.", secret=True),
    Setting(
        "PASSWORD_HASH_METHOD",
        _str,
        "scrypt",
        "werkzeug password hashing method; tests use a cheap one.",
        accepted="a werkzeug hash method such as scrypt or pbkdf2",
    ),
    Setting(
        "MAX_CONTENT_LENGTH",
        _int,
        32 << 20,
        "Largest request body in bytes (uploads included); larger ones are answered 413 with "
        "the limit. Uploads and API submissions have smaller limits of their own (README.md, "
        '"Limits on input").',
        accepted="a number of bytes, e.g. 33554432 for 32 MB",
    ),
    Setting(
        "PASSWORD_MIN_LENGTH",
        _positive_int,
        10,
        "Fewest characters of a staff password; common passwords and the user name are refused "
        "at any length.",
        accepted="an integer of at least 1",
    ),
    Setting(
        "CSRF_TIME_LIMIT",
        _int,
        43200,
        "Seconds a form's CSRF token stays valid; an older one gets the translated "
        "'form expired' page. Long enough for a questionnaire left open over a working day.",
        accepted="an integer number of seconds, at least 60",
    ),
    Setting(
        "PROXY_COUNT",
        _count,
        0,
        "Reverse proxies or load balancers in front of the app whose X-Forwarded-For and "
        "X-Forwarded-Proto are trusted; the client address that logins are counted under comes "
        "from there. 0: clients connect directly (a header they send is ignored).",
        accepted="an integer of at least 0",
    ),
    Setting(
        "RATE_LIMIT_ENABLED",
        _bool,
        True,
        "Count submissions, resume codes, invitation links and the public feedback form per "
        "client address and per link, and answer 429 with Retry-After past the limits below.",
        accepted="true or false",
    ),
    Setting(
        "RATE_LIMIT_PER_ADDRESS",
        _rate,
        "30 per minute; 300 per hour",
        "Requests one client address may make to each public door (a link's submit, the API's "
        "POST of a response, a resume code, an invitation token, the feedback form).",
        accepted='one or more rates separated by ";", e.g. "30 per minute; 300 per hour"',
    ),
    Setting(
        "RATE_LIMIT_PER_LINK",
        _rate,
        "600 per minute",
        "Requests all addresses together may make to one campaign link or invitation token.",
        accepted='one or more rates separated by ";", e.g. "600 per minute"',
    ),
    Setting(
        "RATE_LIMIT_STORAGE_URL",
        _str,
        "",
        "Where the rate-limit counters live. Empty: BROKER_URL when that is Redis (shared by "
        "every web node), else the memory of each process (embedded default).",
        secret=True,
        accepted="empty, memory:// or a redis:// URL",
    ),
    Setting(
        "TOTP_REQUIRED_FOR_ADMINS",
        _bool,
        False,
        "Admins must enrol an authenticator app and give its code at every login; others may "
        "turn the second step on for themselves.",
        accepted="true or false",
    ),
    Setting(
        "LOGIN_MAX_FAILURES",
        _positive_int,
        5,
        "Failed logins under one user name within LOGIN_WINDOW_SECONDS that lock it out.",
        accepted="an integer of at least 1",
    ),
    Setting(
        "LOGIN_MAX_FAILURES_PER_ADDRESS",
        _positive_int,
        20,
        "Failed logins from one client address (an IPv6 /64) within LOGIN_WINDOW_SECONDS that "
        "lock it out, whatever the names tried.",
        accepted="an integer of at least 1",
    ),
    Setting(
        "LOGIN_WINDOW_SECONDS",
        _positive_int,
        900,
        "How long failed logins are remembered for LOGIN_MAX_FAILURES(_PER_ADDRESS).",
        accepted="a number of seconds, at least 1",
    ),
    Setting(
        "LOGIN_LOCKOUT_SECONDS",
        _positive_int,
        900,
        "How long a locked-out user name or address is refused, even with the right password.",
        accepted="a number of seconds, at least 1",
    ),
    Setting(
        "WTF_CSRF_ENABLED",
        _bool,
        True,
        "CSRF protection on every form.",
        accepted="true or false",
    ),
    Setting(
        "LOG_LEVEL",
        _str,
        "INFO",
        "Python logging level of the app and workers.",
        accepted="DEBUG, INFO, WARNING or ERROR",
    ),
)

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


def load_settings(
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    """Return the effective settings: defaults, then `MINSHENG_*` variables, then overrides.

    A value that does not parse stops startup with the variable, the value and the accepted form;
    an override naming an undeclared setting is refused, so a typo never goes unnoticed.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for setting in SETTINGS:
        raw = environ.get(setting.env)
        if raw is None:
            values[setting.name] = setting.default
            continue
        try:
            values[setting.name] = setting.parse(raw)
        except ValueError as exc:
            shown = "***" if setting.secret else repr(raw)
            accepted = setting.accepted or str(exc)
            problems.append(Problem(setting.env, f"got {shown}; expected {accepted}"))
    for name, value in (overrides or {}).items():
        if name not in BY_NAME and not name.isupper():
            problems.append(Problem(name, "unknown setting"))
        values[name] = value
    if values.get("FILE_STORE") == "s3" and not values["S3_BUCKET"]:
        problems.append(Problem("MINSHENG_S3_BUCKET", "empty; required when FILE_STORE is s3"))
    if problems:
        raise InputError(problems)
    _derive(values)
    return values


def _derive(values: dict[str, Any]) -> None:
    instance = Path(values["INSTANCE_PATH"] or _default_instance())
    values["INSTANCE_PATH"] = str(instance)
    if not values["DATABASE_URL"]:
        values["DATABASE_URL"] = f"sqlite:///{instance / 'minsheng.sqlite'}"
    if not values["FILE_STORE_DIR"]:
        values["FILE_STORE_DIR"] = str(instance / "files")
    if not values["RESULT_BACKEND"] and str(values["BROKER_URL"]).startswith("redis"):
        values["RESULT_BACKEND"] = values["BROKER_URL"]


def development_keys_allowed(values: Mapping[str, Any]) -> bool:
    """Development keys are for `DEVELOPMENT`, Flask's debug mode and the test suite only."""
    return bool(values.get("DEVELOPMENT") or values.get("DEBUG") or values.get("TESTING"))


def key_problems(values: Mapping[str, Any]) -> list[Problem]:
    """Why these settings must not serve real people: the public development SECRET_KEY makes
    every session cookie forgeable (an admin's included), a short one can be brute-forced, and
    without its own PII_KEY contact details would be encrypted with a key derived from
    SECRET_KEY (issue 11). Empty in development and tests."""
    if development_keys_allowed(values):
        return []
    problems = []
    secret = str(values.get("SECRET_KEY") or "")
    if secret == DEVELOPMENT_SECRET_KEY:
        got = "the built-in development value"
    elif len(secret) < MIN_SECRET_KEY_LENGTH:
        got = f"{len(secret)} characters"
    else:
        got = ""
    if got:
        problems.append(
            Problem("MINSHENG_SECRET_KEY", f"got {got}; expected {SECRET_KEY_ACCEPTED}")
        )
    if not values.get("PII_KEY"):
        problems.append(
            Problem(
                "MINSHENG_PII_KEY",
                f"not set; expected a key of its own, {PII_KEY_ACCEPTED} (it is never derived "
                "from SECRET_KEY outside MINSHENG_DEVELOPMENT)",
            )
        )
    elif values["PII_KEY"] in tuple(values.get("PII_PREVIOUS_KEYS") or ()):
        problems.append(
            Problem("MINSHENG_PII_PREVIOUS_KEYS", "holds PII_KEY itself; expected former keys")
        )
    if problems:
        problems.append(
            Problem(
                "MINSHENG_DEVELOPMENT",
                "is off; on a developer machine only, `MINSHENG_DEVELOPMENT=true` accepts "
                "the development keys",
            )
        )
    return problems


def masked(values: Mapping[str, Any]) -> dict[str, str]:
    """Settings for display: secrets that are set are shown as `***`."""
    shown: dict[str, str] = {}
    for setting in SETTINGS:
        value = values.get(setting.name)
        if isinstance(value, tuple):
            value = ",".join(value)
        shown[setting.name] = "***" if (setting.secret and value) else str(value)
    return shown


def settings_markdown() -> str:
    """The configuration table of README.md (`minsheng config docs` prints it): one row per
    setting with its variable, default, accepted values and meaning; an architecture test keeps
    the README equal to it."""

    def cell(text: str) -> str:
        # `<INSTANCE_PATH>` would otherwise vanish as an HTML tag when the README is rendered.
        escaped = text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
        return escaped.replace("\n", " ")

    rows = [
        "| Variable | Default | Accepted | Meaning |",
        "|---|---|---|---|",
    ]
    for setting in SETTINGS:
        if setting.default is None:
            default = "(derived)"
        elif setting.default in ("", ()):
            default = "(empty)"
        elif isinstance(setting.default, bool):
            default = f"`{str(setting.default).lower()}`"
        else:
            default = f"`{setting.default}`"
        meaning = setting.help + (" Secret: shown masked." if setting.secret else "")
        rows.append(
            f"| `{setting.env}` | {cell(default)} | {cell(setting.accepted or 'text')} "
            f"| {cell(meaning)} |"
        )
    return "\n".join(rows) + "\n"
