"""Staff accounts and the departments (职能部门) that receive reports and recommendations."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from minsheng.db import Base, utcnow

ROLES = ("admin", "organizer", "expert", "department")


class Department(Base):
    """A government department (职能部门) that receives reports and handles recommendations."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class User(Base):
    """A staff member. `role` is one of `ROLES`; department users belong to one department."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(20))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The second login step (accounts/totp.py): the base32 secret shared with the person's
    # authenticator app, and the last time step whose code was used (no replay).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # Raised by logout: every session cookie (and remember-me cookie) issued before it is dead,
    # so a copied cookie stops working when its owner logs out.
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")

    department: Mapped[Department | None] = relationship()

    # flask-login protocol
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        # The session holds the id and a fingerprint of the password hash and the session epoch
        # (Flask-Login's "alternative tokens"): a password reset or change ends every other open
        # session, and a logout every session of the account.
        return f"{self.id}:{self.password_fingerprint}"

    @property
    def password_fingerprint(self) -> str:
        return hashlib.sha256(f"{self.password_hash}:{self.session_epoch}".encode()).hexdigest()[
            :16
        ]


class LoginThrottle(Base):
    """Recent failed logins under one user name or from one client address, and the lockout
    they caused. Kept in the database so that every web node counts the same attempts (issue 11).

    `key` is a SHA-256 of `account:<name>` or `address:<network>`: names typed at the login page
    are sometimes passwords, so they are not stored as typed.
    """

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    locked_until: Mapped[datetime | None]
