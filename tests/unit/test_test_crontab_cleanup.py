"""The session's cleanup (support/crontab.py, for support/instance.py's shut_down) drops exactly
the cron lines deploy.yml wrote for the instances it shuts down, and nothing of anyone else's."""
from support.crontab import crontab_without

CRONTAB = """MAILTO=""
#Ansible: label-studio ls-aaaaaaaaaa
@reboot /root/.local/state/label-studio/ls-aaaaaaaaaa/start-supervisord
#Ansible: label-studio backup ls-aaaaaaaaaa
5 */12 * * * /x/ls-aaaaaaaaaa/label-studio-backup.py --backup-dir /b\\%daily
#Ansible: label-studio ls-bbbbbbbbbb
@reboot /root/.local/state/label-studio/ls-bbbbbbbbbb/start-supervisord
# a comment of the user's naming ls-aaaaaaaaaa
0 3 * * * /usr/local/bin/nightly ls-aaaaaaaaaa
"""


def test_only_the_named_instances_lines_go():
    kept = crontab_without({"ls-aaaaaaaaaa"}, CRONTAB)
    assert kept == """MAILTO=""
#Ansible: label-studio ls-bbbbbbbbbb
@reboot /root/.local/state/label-studio/ls-bbbbbbbbbb/start-supervisord
# a comment of the user's naming ls-aaaaaaaaaa
0 3 * * * /usr/local/bin/nightly ls-aaaaaaaaaa
"""


def test_nothing_named_nothing_changes():
    assert crontab_without({"ls-cccccccccc"}, CRONTAB) == CRONTAB
    assert crontab_without(set(), "") == ""
