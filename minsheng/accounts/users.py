"""Staff accounts over their life: creation, role changes, disabling, password resets and
changes, each audited here (and only here), and the departments they belong to."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from minsheng.accounts.login import locked_until, unlock
from minsheng.accounts.models import ROLES, Department, User
from minsheng.accounts.passwords import hash_password, password_matches, password_problems
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


def _active_admins(session: Session) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(User).where(User.role == "admin", User.active)
        )
        or 0
    )


def _keeps_an_admin(session: Session, user: User, problems: list[Problem], location: str) -> None:
    # Without an active admin nobody could enable an account or reset a password from the pages.
    if user.role == "admin" and user.active and _active_admins(session) <= 1:
        problems.append(
            Problem(location, _("%(name)s is the last active admin", name=user.username))
        )


def change_role(
    session: Session,
    user: User,
    role: str,
    actor_id: int | None,
    department: Department | None = None,
) -> User:
    """Give `user` another role (a department user needs its department); audited with the old
    and the new role. The last active admin keeps the admin role."""
    problems: list[Problem] = []
    if role not in ROLES:
        problems.append(
            Problem("role", f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
        )
    if role == "department" and department is None:
        problems.append(Problem("department", "a department user must belong to a department"))
    if role != "admin":
        _keeps_an_admin(session, user, problems, "role")
    if problems:
        raise InputError(problems)
    before = user.role
    user.role = role
    user.department = department if role == "department" else None
    record(session, actor_id, "user.role_change", "user", user.id, before=before, after=role)
    return user


def disable_user(session: Session, user: User, actor_id: int | None) -> None:
    """Refuse every login of `user` and end its sessions (the session loader answers only for
    active users); the account and its history stay. The last active admin cannot be disabled."""
    problems: list[Problem] = []
    _keeps_an_admin(session, user, problems, "active")
    if problems:
        raise InputError(problems)
    if user.active:
        user.active = False
        record(session, actor_id, "user.disable", "user", user.id)


def enable_user(session: Session, user: User, actor_id: int | None) -> None:
    """Let `user` log in again, and forget a lockout of its name: an admin vouches for it."""
    if locked_until(session, user.username) is not None:
        record(session, actor_id, "user.unlock", "user", user.id)
    unlock(session, user.username)
    if not user.active:
        user.active = True
        record(session, actor_id, "user.enable", "user", user.id)


def reset_password(
    session: Session, user: User, password: str, actor_id: int | None, reason: str = ""
) -> User:
    """Set a new password for `user` chosen by an admin or an operator (policy applied), lift a
    lockout of its name, and audit it (never the password)."""
    problems = password_problems(password, user.username)
    if problems:
        raise InputError(problems)
    user.password_hash = hash_password(password)
    unlock(session, user.username)
    detail = {"reason": reason} if reason else {}
    record(session, actor_id, "user.password_reset", "user", user.id, **detail)
    return user


def end_sessions(session: Session, user: User) -> None:
    """End every session of `user` on every device (logout): its session epoch moves on, so no
    cookie issued before, copied or remembered, loads the account again. Audited."""
    user.session_epoch += 1
    record(session, user.id, "user.logout", "user", user.id)


def change_password(session: Session, user: User, current: str, new: str) -> User:
    """The user's own change: the current password first (a session left open on a shared
    computer must not be enough), then the policy on the new one."""
    problems = []
    if not password_matches(user.password_hash, current):
        problems.append(Problem("current_password", _("is not your current password")))
    problems.extend(password_problems(new, user.username, location="new_password"))
    if problems:
        raise InputError(problems)
    user.password_hash = hash_password(new)
    record(session, user.id, "user.password_change", "user", user.id)
    return user
