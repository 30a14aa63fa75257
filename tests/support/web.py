"""The browser-less parts of Label Studio's web UI that tests need (signup form)."""
from __future__ import annotations

import http.cookiejar
import urllib.error
import urllib.parse
import urllib.request


def signup(base_url: str, email: str, password: str, invite_token: str | None = None) -> int:
    """Submit the signup form like a browser (CSRF cookie + token); return the HTTP status."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    url = base_url + "/user/signup/" + (f"?token={invite_token}" if invite_token else "")
    opener.open(url, timeout=30).read()
    csrf = next(c.value for c in jar if c.name == "csrftoken")
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": csrf, "email": email,
                                   "password": password}).encode()
    try:
        with opener.open(urllib.request.Request(url, data=form, headers={"Referer": url}),
                         timeout=30) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code
