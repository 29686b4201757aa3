"""Creating staff accounts and checking passwords."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from minsheng.accounts.models import ROLES, Department, User
from minsheng.errors import InputError, Problem


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    department: Department | None = None,
    email: str | None = None,
) -> User:
    """Add a staff account; refuses unknown roles, duplicate usernames and short passwords."""
    problems = []
    if role not in ROLES:
        problems.append(
            Problem("role", f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
        )
    if len(password) < 8:
        problems.append(Problem("password", "must be at least 8 characters"))
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        problems.append(Problem("username", f"{username!r} is already taken"))
    if role == "department" and department is None:
        problems.append(Problem("department", "a department user must belong to a department"))
    if problems:
        raise InputError(problems)
    method = current_app.config["PASSWORD_HASH_METHOD"]
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=generate_password_hash(password, method=method),
        role=role,
        department=department,
        email=email,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None (no hint which part was wrong)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or not check_password_hash(user.password_hash, password):
        return None
    return user


def get_or_create_department(session: Session, code: str, name: str) -> Department:
    """The department with `code`, created with `name` the first time it is named."""
    department = session.scalar(select(Department).where(Department.code == code))
    if department is None:
        department = Department(code=code, name=name)
        session.add(department)
        session.flush()
    return department
