import pytest

from ansible.module_utils.env_file import parse_env_file
from ansible.module_utils.label_studio_cli import cli_environment, password_was_set

# What roles/label_studio_service/templates/service.env.j2 renders (values through `quote`).
SERVICE_ENV = """# Ansible managed
# Environment of Label Studio instance ls-0123456789. Holds secrets: keep 0600.
LABEL_STUDIO_BASE_DATA_DIR='/tmp/pytest of root/ls0/data'
LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK=true
SECRET_KEY=Ab12cd
SENTRY_DSN=
LABEL_STUDIO_EXAMPLE='it'"'"'s $HOME # not a comment'
export LABEL_STUDIO_EXPORTED="x y"
"""


def test_parses_what_the_service_role_writes():
    assert parse_env_file(SERVICE_ENV) == {
        "LABEL_STUDIO_BASE_DATA_DIR": "/tmp/pytest of root/ls0/data",
        "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
        "SECRET_KEY": "Ab12cd",
        "SENTRY_DSN": "",
        "LABEL_STUDIO_EXAMPLE": "it's $HOME # not a comment",
        "LABEL_STUDIO_EXPORTED": "x y",
    }


@pytest.mark.parametrize("line, message", [
    ("JUST_A_NAME", "line 2: expected NAME=VALUE"),
    ("1BAD=x", "line 2: expected NAME=VALUE"),
    ("SECRET_KEY='s3cr3t", "line 2: unbalanced quotes in the value of SECRET_KEY"),
    ("SECRET_KEY=s3cr3t words", "line 2: the value of SECRET_KEY is several words"),
])
def test_bad_lines_name_the_line_but_not_the_value(line, message):
    with pytest.raises(ValueError, match=message) as err:
        parse_env_file("A=1\n" + line + "\n", source="service.env")
    assert str(err.value).startswith("service.env line 2")
    assert "s3cr3t" not in str(err.value)


def test_cli_environment_is_clean_plus_the_env_file():
    env = cli_environment({"LABEL_STUDIO_BASE_DATA_DIR": "/d", "SECRET_KEY": "k"},
                          "/opt/ls/env/bin/label-studio", "/home/me")
    assert env == {"HOME": "/home/me", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
                   "PATH": "/opt/ls/env/bin:/usr/local/bin:/usr/bin:/bin",
                   "LABEL_STUDIO_BASE_DATA_DIR": "/d", "SECRET_KEY": "k"}


def test_reset_password_success_is_read_from_its_output():
    assert password_was_set("New password:Password successfully changed\n")
    # Both answers below come with exit code 0 (1.6.0 and 1.23.x).
    assert not password_was_set("User with username x@example.org not found\n")
    assert not password_was_set("Entered password is the same as current\n")
