"""label_studio_account's action plugin reads the account's facts from one `getent passwd` line;
anything but one well-formed line sends it back to the module (tested for real in
tests/integration/test_account_facts.py)."""
from __future__ import annotations

import importlib.util

from support.paths import REPO

spec = importlib.util.spec_from_file_location("account_action", REPO / "action_plugins/label_studio_account.py")
account_action = importlib.util.module_from_spec(spec)
spec.loader.exec_module(account_action)
facts_from_passwd_line = account_action.facts_from_passwd_line


def test_one_passwd_line_gives_the_facts_the_module_names():
    line = "lsnode:x:1001:1002:Label Studio node,,,:/home/lsnode:/bin/bash\n"
    assert facts_from_passwd_line(line) == dict(user_id="lsnode", user_uid=1001, user_gid=1002,
                                                user_dir="/home/lsnode", user_shell="/bin/bash")


def test_an_empty_shell_field_is_kept_as_empty():
    assert facts_from_passwd_line("svc:*:998:998::/var/lib/svc:")["user_shell"] == ""


def test_anything_but_one_well_formed_line_is_refused():
    for text in ("", "\n", "lsnode:x:1001:1002::/home/lsnode\n",  # six fields
                 "lsnode:x:1001:1002::/home/lsnode:/bin/sh:extra\n",
                 "lsnode:x:uid:1002::/home/lsnode:/bin/sh\n", ":x:1001:1002::/home/lsnode:/bin/sh\n",
                 "lsnode:x:1001:1002::relative/home:/bin/sh\n",
                 "a:x:1:1::/a:/bin/sh\nb:x:2:2::/b:/bin/sh\n",  # two accounts
                 "getent: command not found\n"):
        assert facts_from_passwd_line(text) is None, text
