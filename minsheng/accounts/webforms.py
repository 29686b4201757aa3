"""WTForms for the login page, the own-password page and the admin's user pages. The password
policy itself is the domain's (`passwords.password_problems`); these only parse."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from minsheng.accounts.models import ROLES

ROLE_LABELS = {
    "admin": _l("Admin"),
    "organizer": _l("Organizer"),
    "expert": _l("Expert"),
    "department": _l("Department"),
}


def _role_choices() -> list[SelectChoice]:
    return [SelectChoice(role, ROLE_LABELS[role]) for role in ROLES]


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


def _repeat(field: str) -> PasswordField:
    return PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo(field, message=_l("the two passwords differ"))],
    )


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=[DataRequired()])
    repeat = _repeat("new_password")


class UserCreateForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    display_name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Role"), choices=_role_choices())
    department = StringField(
        _l("Department code (department users)"), validators=[Optional(), Length(max=40)]
    )
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    repeat = _repeat("password")


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=_role_choices())
    department = StringField(
        _l("Department code (department users)"), validators=[Optional(), Length(max=40)]
    )
    save_role = SubmitField(_l("Change the role"))


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired()])
    repeat = _repeat("password")
    reset = SubmitField(_l("Set the new password"))


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code from your authenticator app"), validators=[DataRequired(), Length(max=12)]
    )


class TurnOffTotpForm(FlaskForm):
    password = PasswordField(_l("Current password"), validators=[DataRequired()])
