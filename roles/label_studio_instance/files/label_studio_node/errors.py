"""The one exception the commands turn into a message and exit 1."""


class NodeError(Exception):
    """A failure with a message meant for the person reading the log or the playbook output."""
