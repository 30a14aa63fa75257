"""Which database the instance uses: the one rule for Label Studio's POSTGRE_* settings.

Label Studio reads every setting through get_env (label_studio/core/utils/params.py):
LABEL_STUDIO_<NAME> first, then HEARTEX_<NAME>, then <NAME>; and its PostgreSQL settings
(core/settings/base.py) default HOST to localhost and PORT to 5432. The node's commands read them
the same way, so that a prefixed variable can never make them talk to another database than
Label Studio does. NAME, USER and PASSWORD are required here although Label Studio defaults them
to `postgres`: such a default would silently aim at the wrong database.
"""
from __future__ import annotations

from .errors import NodeError

# Label Studio's get_env order.
ENV_PREFIXES = ("LABEL_STUDIO_", "HEARTEX_", "")
POSTGRE_KEYS = ("NAME", "USER", "PASSWORD", "HOST", "PORT")
POSTGRE_DEFAULTS = {"HOST": "localhost", "PORT": "5432"}


def ls_env(environ, name: str, default=None):
    """The value Label Studio itself would read for setting `name`. Pure."""
    for prefix in ENV_PREFIXES:
        if environ.get(prefix + name) is not None:
            return environ[prefix + name]
    return default


def postgres_settings(environ) -> dict:
    """{NAME, USER, PASSWORD, HOST, PORT} as Label Studio would connect. Pure."""
    found = {key: ls_env(environ, "POSTGRE_" + key, POSTGRE_DEFAULTS.get(key))
             for key in POSTGRE_KEYS}
    missing = [f"POSTGRE_{key}" for key in POSTGRE_KEYS if not found[key]]
    if missing:
        raise NodeError(f"missing in the environment: {', '.join(missing)} (run the command "
                        "through the instance's with-service-env)")
    if not str(found["PORT"]).isdigit():
        raise NodeError(f"POSTGRE_PORT is not a port number: {found['PORT']!r}")
    return found


def libpq(found: dict) -> dict:
    """The same settings as libpq connection keywords. Pure."""
    return {"dbname": found["NAME"], "user": found["USER"], "password": found["PASSWORD"],
            "host": found["HOST"], "port": int(found["PORT"])}


def prefixed_names(names) -> set:
    """The LABEL_STUDIO_/HEARTEX_ variants of `names`, which would win over the plain ones."""
    return {prefix + name for prefix in ENV_PREFIXES if prefix for name in names}
