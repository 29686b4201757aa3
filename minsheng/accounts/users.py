"""Creating staff accounts and the departments they belong to."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from minsheng.accounts.models import ROLES, Department, User
from minsheng.accounts.passwords import hash_password, password_problems
from minsheng.audit import record
from minsheng.errors import InputError, Problem


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    department: Department | None = None,
    email: str | None = None,
    actor_id: int | None = None,
) -> User:
    """Add a staff account; refuses unknown roles, duplicate usernames and passwords that fail
    the policy (`passwords.password_problems`), all problems at once. Audited as done by
    `actor_id` (None: an operator at the command line)."""
    problems = []
    if role not in ROLES:
        problems.append(
            Problem("role", f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
        )
    problems.extend(password_problems(password, username))
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        problems.append(Problem("username", f"{username!r} is already taken"))
    if role == "department" and department is None:
        problems.append(Problem("department", "a department user must belong to a department"))
    if problems:
        raise InputError(problems)
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        role=role,
        department=department,
        email=email,
    )
    session.add(user)
    session.flush()
    record(session, actor_id, "user.create", "user", user.id, username=username, role=role)
    return user


def get_or_create_department(session: Session, code: str, name: str) -> Department:
    """The department with `code`, created with `name` the first time it is named."""
    department = session.scalar(select(Department).where(Department.code == code))
    if department is None:
        department = Department(code=code, name=name)
        session.add(department)
        session.flush()
    return department
