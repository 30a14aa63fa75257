"""The browser-less parts of Label Studio's web UI that tests need (signup and login forms)."""
from __future__ import annotations

import http.cookiejar
import json
import urllib.error
import urllib.parse
import urllib.request


def _submit_form(opener, jar, url: str, fields: dict) -> int:
    """Load a Django form page for its CSRF cookie, post the fields with it; the HTTP status."""
    opener.open(url, timeout=30).read()
    csrf = next(c.value for c in jar if c.name == "csrftoken")
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": csrf, **fields}).encode()
    try:
        with opener.open(urllib.request.Request(url, data=form, headers={"Referer": url}),
                         timeout=30) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


def signup(base_url: str, email: str, password: str, invite_token: str | None = None) -> int:
    """Submit the signup form like a browser (CSRF cookie + token); return the HTTP status."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    url = base_url + "/user/signup/" + (f"?token={invite_token}" if invite_token else "")
    return _submit_form(opener, jar, url, {"email": email, "password": password})


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def login(base_url: str, email: str, password: str) -> str | None:
    """Log in through the form like a browser; the email the session belongs to, or None.

    Label Studio answers a good login with a redirect and a bad one with the form again (200),
    so success is read from /api/current-user/whoami with the session cookie, not from a status.
    """
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
    status = _submit_form(opener, jar, base_url + "/user/login/", {"email": email, "password": password})
    if status != 302:
        return None
    try:
        with opener.open(base_url + "/api/current-user/whoami", timeout=30) as resp:
            return json.loads(resp.read())["email"]
    except urllib.error.HTTPError:
        return None
