# -*- coding: utf-8 -*-
"""What label_studio_user has to do, decided without touching the server."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# Enough to catch typos and to derive a username; Label Studio validates the rest.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_email(email):
    if not email or not _EMAIL.match(email.strip()):
        raise ValueError("%r is not an email address" % (email,))
    return email.strip()


def default_username(email):
    """The local part of the address, as Label Studio's own signup does."""
    return check_email(email).split("@", 1)[0]


def find_user(users, email):
    """The user with this email, compared case-insensitively, or None.

    Case-insensitive because Label Studio's uniqueness is not (it only lowercases the domain), and
    the study broke once on one person with two accounts: a second, differently cased account for
    the same address must never be created, and existing duplicates are an error to resolve by hand.
    """
    wanted = email.strip().lower()
    matches = sorted((u for u in users if (u.get("email") or "").strip().lower() == wanted),
                     key=lambda u: u["id"])
    if len(matches) > 1:
        # Ids, not the addresses: messages reach Ansible's output and logs (personal data).
        raise ValueError("%d accounts use the email (compared case-insensitively; ids %s): "
                         "delete or re-address all but one in Label Studio first"
                         % (len(matches), ", ".join(str(u["id"]) for u in matches)))
    return matches[0] if matches else None


class UserPlan:
    def __init__(self, create=None, update=None, diff=None):
        self.create = create or {}      # {email, username} of a new account
        self.update = update or {}      # fields to PATCH on the existing one
        self.diff = diff or {"before": {}, "after": {}}

    @property
    def changed(self):
        return bool(self.create or self.update)


def _shown(user):
    return {"email": user["email"], "username": user.get("username") or ""} if user else {}


def plan_user(user, email, username=None):
    """Compare the existing account (API dict or None) with the wanted one.

    A new account's email is lowercased. The username is only enforced when given; the email of an
    existing account is left as it is stored (it matched case-insensitively) and the password is
    never compared (it cannot be read).
    """
    check_email(email)
    before = _shown(user)
    if not user:
        # Lowercased like Label Studio's signup does: its login form lowercases what is typed, so
        # an account stored as A1@example.org could never log in.
        email = email.strip().lower()
        fields = {"email": email, "username": username or default_username(email)}
        return UserPlan(create=fields, diff={"before": before, "after": dict(fields)})
    update = {}
    if username is not None and username != (user.get("username") or ""):
        update["username"] = username
    return UserPlan(update=update, diff={"before": before, "after": dict(before, **update)})
