"""Annotator accounts and the invite link, made by deploy.yml against a real server (issue 7)."""
from __future__ import annotations

import os
import stat
import urllib.parse

import pytest

from support.background import at_once
from support.files import assert_untouched, files_state
from support.modules import run_module
from support.processes import watch_cmdlines
from support.web import login, signup

ANNOTATORS = [{"name": "annotator1", "email": "a1@example.org"},
              {"name": "annotator2", "email": "a2@example.org"},
              "annotator3"]


def users_by_email(inst) -> dict:
    users = {}
    for user in inst.api("GET", "/api/users/"):
        users.setdefault(user["email"].lower(), []).append(user)
    return users


def password_of(inst, name: str) -> str:
    return (inst.credentials_dir / "annotators" / name).read_text().strip()


def invite_link(inst) -> str:
    return (inst.credentials_dir / "invite-link").read_text().strip()


def token_of(link: str) -> str:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["token"][0]


def user_args(inst, email: str, **more) -> dict:
    return {"email": email, "url": inst.url, "token_file": str(inst.credentials_dir / "api_token"),
            "label_studio_bin": str(inst.env_dir / "bin/label-studio"),
            "env_file": str(inst.state_dir / "service.env"), **more}


@pytest.fixture(scope="module")
def deployed(make_instance):
    inst = make_instance(study_annotators=ANNOTATORS)
    # Every argv seen during the deploy (the passwords are generated during it, so unknown before).
    # -vvv: module arguments and results show in the output unless no_log hides them.
    with watch_cmdlines() as seen:
        run = inst.deploy(extra_args=["-vvv"])
    run.assert_ok()
    inst.first_run, inst.cmdlines = run, seen
    return inst


def test_accounts_are_created_once_per_email(deployed):
    users = users_by_email(deployed)
    for number in (1, 2):
        (user,) = users[f"a{number}@example.org"]
        assert user["username"] == f"annotator{number}"
    # annotator3 has no email: a project, but no account.
    assert len(users) == 3 and "admin@label-studio.local" in users
    titles = {p["title"] for p in deployed.api("GET", "/api/projects/?page_size=100")["results"]}
    assert titles == {"RRS: annotator1", "RRS: annotator2", "RRS: annotator3"}


def test_generated_passwords_are_private_and_log_in(deployed):
    folder = deployed.credentials_dir / "annotators"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert sorted(p.name for p in folder.iterdir()) == ["annotator1", "annotator2"]
    for number in (1, 2):
        path = folder / f"annotator{number}"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        password = password_of(deployed, f"annotator{number}")
        assert len(password) == 20
        assert login(deployed.url, f"a{number}@example.org", password) == f"a{number}@example.org"
    assert login(deployed.url, "a1@example.org", password_of(deployed, "annotator2")) is None


def test_passwords_never_leak(deployed):
    for name in ("annotator1", "annotator2"):
        password = password_of(deployed, name)
        assert password not in deployed.first_run.output
        hits = [cmd for cmd in deployed.cmdlines if password.encode() in cmd]
        assert hits == [], f"{name}'s password seen in a process's argv"
        for log in (deployed.data_dir / "logs").iterdir():
            assert password.encode() not in log.read_bytes(), log
    assert deployed.cmdlines, "the watcher saw no process at all"


def test_invite_link_is_private_and_lets_people_sign_up(deployed):
    path = deployed.credentials_dir / "invite-link"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    link = invite_link(deployed)
    assert link == deployed.url + deployed.api("GET", "/api/invite")["invite_url"]
    assert link not in deployed.first_run.output and token_of(link) not in deployed.first_run.output
    assert str(path) in deployed.first_run.output  # deploy says where it is
    assert signup(deployed.url, "stranger@example.org", "Str4nger-pw!") == 403
    assert signup(deployed.url, "self-signed@example.org", "Self-s1gned-pw!", token_of(link)) == 200
    # 200 alone is also Label Studio's answer to an invalid form: the account must exist and log in.
    assert login(deployed.url, "self-signed@example.org", "Self-s1gned-pw!") == "self-signed@example.org"
    assert login(deployed.url, "stranger@example.org", "Str4nger-pw!") is None


def test_second_deploy_changes_nothing_and_adds_no_account(deployed):
    before_users = deployed.api("GET", "/api/users/")
    # Every credential file (the invite link, each annotator's password) and the service's files.
    before_files = files_state(deployed.credentials_dir, deployed.state_dir)
    # The re-run and the --check --diff run at once: each must find nothing to change.
    rerun, preview = at_once(deployed.deploy, lambda: deployed.deploy(check=True, diff=True))
    rerun.assert_unchanged()
    preview.assert_unchanged()
    # Read on the controller and found as wanted: not even the copy module's two runs.
    assert not rerun.ran("label_studio_study : Keep the invite link in a private file on the controller")
    assert deployed.api("GET", "/api/users/") == before_users
    assert_untouched(before_files, deployed.credentials_dir, deployed.state_dir)
    # The accounts' passwords are still the ones on file (a reset would leave the listing alike).
    assert login(deployed.url, "a1@example.org", password_of(deployed, "annotator1")) == "a1@example.org"


def test_someone_who_signed_up_is_adopted_not_duplicated(deployed):
    """A listed email that already has an account (any case) keeps it and its own password."""
    token = token_of(invite_link(deployed))
    assert signup(deployed.url, "a4@example.org", "Own-pa55word!", token) == 200
    annotators = ANNOTATORS + [{"name": "annotator4", "email": "A4@Example.ORG"}]
    run = deployed.deploy({"study_annotators": annotators}).assert_ok()
    assert run.changed == 2  # annotator4's username, annotator4's project
    (user,) = users_by_email(deployed)["a4@example.org"]
    assert user["username"] == "annotator4"
    assert not (deployed.credentials_dir / "annotators" / "annotator4").exists()
    assert login(deployed.url, "a4@example.org", "Own-pa55word!") == "a4@example.org"
    deployed.deploy({"study_annotators": annotators}).assert_unchanged()


def test_rotating_the_invite_link(deployed):
    old = invite_link(deployed)
    preview = deployed.deploy({"study_rotate_invite": True}, check=True, diff=True).assert_ok()
    assert preview.changed == 1 and invite_link(deployed) == old
    run = deployed.deploy({"study_rotate_invite": True}, extra_args=["-vvv"]).assert_ok()
    new = invite_link(deployed)
    assert new != old and run.changed == 2  # the reset and the file
    assert new not in run.output and token_of(new) not in run.output
    assert signup(deployed.url, "late@example.org", "L4te-comer-pw!", token_of(old)) == 403
    assert login(deployed.url, "late@example.org", "L4te-comer-pw!") is None
    assert signup(deployed.url, "late@example.org", "L4te-comer-pw!", token_of(new)) == 200
    assert login(deployed.url, "late@example.org", "L4te-comer-pw!") == "late@example.org"
    # Without the flag nothing rotates; the file's mode, changed by hand, is put back (one change).
    link_file = deployed.credentials_dir / "invite-link"
    link_file.chmod(0o644)
    run = deployed.deploy().assert_ok()
    assert run.changed == 1 and invite_link(deployed) == new, run.output
    assert stat.S_IMODE(link_file.stat().st_mode) == 0o600


def test_bad_annotator_entries_fail_before_any_write(deployed):
    users = deployed.api("GET", "/api/users/")
    # Nothing on disk either: no password file for the good entry before the bad one (x1), none
    # outside the annotators' dir for '../x4', no state file rewritten.
    files = files_state(deployed.credentials_dir, deployed.state_dir)
    for bad, message in (
            ([{"name": "x1", "email": "x1@example.org"}, {"name": "x2", "email": "X1@example.org"}],
             "item 5 (x2): has the same email as item 4"),
            ([{"name": "x3", "email": "not-an-address"}], "item 4 (x3): the email is not an email address"),
            ([{"name": "../x4", "email": "x4@example.org"}], "item 4: '../x4' holds '/'")):
        run = deployed.deploy({"study_annotators": ANNOTATORS + bad})
        # The YAML callback folds long lines and doubles single quotes.
        flat = " ".join(run.output.replace("''", "'").split())
        assert run.returncode != 0 and message in flat, run.output[-3000:]
        assert "example.org" not in flat  # messages name the entry, never its email (issue 13)
        assert deployed.api("GET", "/api/users/") == users
        assert_untouched(files, deployed.credentials_dir, deployed.state_dir)
    assert not any(p["title"].startswith("RRS: x")
                   for p in deployed.api("GET", "/api/projects/?page_size=100")["results"])


# -- the module on its own -------------------------------------------------------------------

def test_module_check_mode_and_diff_create_nothing(deployed):
    res = run_module("label_studio_user", user_args(deployed, "Checked@Example.org"), check=True, diff=True)
    assert res["changed"] and res["created"] and res["user_id"] is None
    # The email is personal data: never returned nor printed (issue 13), the username is.
    assert "email" not in res and res["username"] == "checked"
    assert "+" in res["printed"] and "checked" in res["printed"]
    assert "example.org" not in res["printed"].lower()
    assert "checked@example.org" not in users_by_email(deployed)


def test_module_password_file(deployed, tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("Fil3-based-pw\n")
    secret.chmod(0o644)
    args = user_args(deployed, "b1@example.org", password_file=str(secret))
    res = run_module("label_studio_user", args)
    assert res["failed"] and "readable by others (mode 0644)" in res["msg"]
    assert "b1@example.org" not in users_by_email(deployed)
    secret.chmod(0o600)
    res = run_module("label_studio_user", args)
    assert res["changed"] and res["created"] and res["username"] == "b1", res
    assert login(deployed.url, "b1@example.org", "Fil3-based-pw") == "b1@example.org"
    again = run_module("label_studio_user", args)
    assert not again["changed"] and again["user_id"] == res["user_id"]
    assert "Fil3-based-pw" not in res["printed"] + again["printed"]


def test_module_fails_cleanly_without_what_creation_needs(deployed, tmp_path):
    bad_env = tmp_path / "service.env"
    bad_env.write_text("SECRET_KEY=x\n")
    res = run_module("label_studio_user", user_args(deployed, "c1@example.org", password="Pw-c1-xx",
                                                    env_file=str(bad_env)))
    assert res["failed"] and "does not set LABEL_STUDIO_BASE_DATA_DIR" in res["msg"]
    res = run_module("label_studio_user", user_args(deployed, "c1@example.org"))
    assert res["failed"] and "password or password_file is required" in res["msg"]
    assert "c1@example.org" not in users_by_email(deployed)


def test_module_undoes_the_account_when_the_password_cannot_be_set(deployed, tmp_path):
    """An env file for the wrong data dir: the real CLI fails, the new account is deleted again."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    wrong_env = tmp_path / "service.env"
    wrong_env.write_text((deployed.state_dir / "service.env").read_text().replace(
        f"LABEL_STUDIO_BASE_DATA_DIR={deployed.data_dir}", f"LABEL_STUDIO_BASE_DATA_DIR={blocker}/data"))
    assert f"{blocker}/data" in wrong_env.read_text()
    wrong_env.chmod(0o600)
    res = run_module("label_studio_user", user_args(deployed, "d1@example.org", password="Pw-d1-xxx",
                                                    env_file=str(wrong_env)))
    assert res["failed"] and "reset_password failed" in res["msg"], res
    assert "deleted again" in res["msg"] and not res["changed"]
    assert "Pw-d1-xxx" not in res["printed"]
    assert "d1@example.org" not in users_by_email(deployed)
    # The next run with the right env file starts over and works.
    res = run_module("label_studio_user", user_args(deployed, "d1@example.org", password="Pw-d1-xxx"))
    assert res["created"] and login(deployed.url, "d1@example.org", "Pw-d1-xxx") == "d1@example.org"


def test_module_refuses_two_accounts_for_one_email(deployed):
    deployed.api("POST", "/api/users/", {"email": "Dup@example.org", "username": "dup1"})
    deployed.api("POST", "/api/users/", {"email": "dup@example.org", "username": "dup2"})
    def accounts():  # who exists, by what name (not last_activity: the module's calls move it)
        return sorted((u["id"], u["email"], u["username"]) for u in deployed.api("GET", "/api/users/"))
    users = accounts()
    res = run_module("label_studio_user", user_args(deployed, "DUP@example.org", password="Pw-dup-xx"))
    assert res["failed"] and "2 accounts use the email (compared case-insensitively; ids" in res["msg"]
    assert "dup@example.org" not in res["msg"].lower()
    # Refused before acting: no account added or changed, neither got the password.
    assert accounts() == users and not res["changed"]
    for email in ("Dup@example.org", "dup@example.org", "DUP@example.org"):
        assert login(deployed.url, email, "Pw-dup-xx") is None


def test_invite_module_check_mode_does_not_rotate(deployed):
    before = deployed.api("GET", "/api/invite")["token"]
    conn = {"url": deployed.url, "token_file": str(deployed.credentials_dir / "api_token")}
    res = run_module("label_studio_invite", {**conn, "rotate": True}, check=True, diff=True)
    assert res["changed"] and res["rotated"] and deployed.api("GET", "/api/invite")["token"] == before
    assert "reset (new token)" in res["printed"]
    plain = run_module("label_studio_invite", conn)
    assert not plain["changed"] and plain["invite_url"].endswith("token=" + before)
    assert os.path.exists(deployed.credentials_dir / "invite-link")
