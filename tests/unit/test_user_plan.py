import pytest

from ansible.module_utils.label_studio_user_plan import default_username, find_user, plan_user

USERS = [{"id": 1, "email": "admin@label-studio.local", "username": "admin"},
         {"id": 4, "email": "A1@example.org", "username": "annotator1"},
         {"id": 5, "email": "a10@example.org", "username": "a10"}]


def test_email_matches_case_insensitively_and_exactly():
    assert find_user(USERS, "a1@EXAMPLE.org")["id"] == 4
    assert find_user(USERS, " a1@example.org ")["id"] == 4
    assert find_user(USERS, "a1@example.or") is None  # no prefix or substring match
    assert find_user([], "a1@example.org") is None


def test_two_accounts_for_one_email_fail_naming_them():
    users = USERS + [{"id": 9, "email": "a1@example.org", "username": "dup"}]
    with pytest.raises(ValueError, match=r"2 accounts use the email \(compared case-insensitively; ids 4, 9\)") as err:
        find_user(users, "a1@example.org")
    assert "a1@" not in str(err.value)  # personal data stays out of messages


def test_missing_account_is_created_with_the_local_part_as_username():
    plan = plan_user(None, "a2@example.org")
    assert plan.changed and plan.create == {"email": "a2@example.org", "username": "a2"}
    assert plan.diff == {"before": {}, "after": {"email": "a2@example.org", "username": "a2"}}
    assert plan_user(None, "a2@example.org", "annotator2").create["username"] == "annotator2"


def test_new_accounts_get_the_lowercased_email_label_studio_logs_in_with():
    plan = plan_user(None, " Ann.Two@Example.ORG ")
    assert plan.create == {"email": "ann.two@example.org", "username": "ann.two"}


def test_existing_account_is_left_alone_unless_the_username_differs():
    assert not plan_user(USERS[1], "a1@example.org").changed
    assert not plan_user(USERS[1], "a1@example.org", "annotator1").changed
    plan = plan_user(USERS[1], "a1@example.org", "ann1")
    assert plan.update == {"username": "ann1"} and not plan.create
    # The stored email is kept (it matched case-insensitively).
    assert plan.diff == {"before": {"email": "A1@example.org", "username": "annotator1"},
                         "after": {"email": "A1@example.org", "username": "ann1"}}


@pytest.mark.parametrize("bad", ["", "a1", "a1@", "@example.org", "a 1@example.org", "a1@localhost"])
def test_bad_emails_are_refused(bad):
    with pytest.raises(ValueError, match="is not an email address"):
        plan_user(None, bad)
    with pytest.raises(ValueError):
        default_username(bad)
