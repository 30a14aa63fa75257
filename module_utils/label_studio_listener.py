# -*- coding: utf-8 -*-
"""Who listens on Label Studio's port: the check made before a token or study data is sent.

On a shared node any account may bind 127.0.0.1:PORT while Label Studio is stopped or
restarting, and would then receive the admin API token and report text. The kernel records the
owner (uid) of every socket in /proc/net/tcp and /proc/net/tcp6; a LISTEN socket on the port that
belongs to another uid is an impostor. The parsing and the decision are pure functions (unit
tested); only listener_owners() reads /proc.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import socket
import struct
import sys

LISTEN = "0A"
# Addresses whose listener receives a connection to Label Studio on this node: the loopback
# addresses and the wildcards (a socket on 0.0.0.0 or :: takes connections to 127.0.0.1 too).
_LOOPBACK_AND_WILDCARD = ("127.0.0.1", "0.0.0.0", "::1", "::", "::ffff:127.0.0.1", "::ffff:0.0.0.0")


class ListenerError(Exception):
    """The port's listener is not the deploying account's, or cannot be checked."""


class NoListener(ListenerError):
    """Nothing listens on the port (yet): a caller that retries may try again."""


class ListenerUnknown(ListenerError):
    """The owner cannot be seen here (no /proc/net/tcp, e.g. a macOS controller)."""


def _address(hex_address, byteorder):
    """/proc/net/tcp* print an address as 32-bit words in the kernel's (host) byte order."""
    words = [int(hex_address[i:i + 8], 16) for i in range(0, len(hex_address), 8)]
    packed = b"".join(struct.pack("<I" if byteorder == "little" else ">I", w) for w in words)
    return str(ipaddress.ip_address(packed))


def parse_proc_net_tcp(text, byteorder=sys.byteorder, listening_on=None):
    """The sockets of one /proc/net/tcp or tcp6 text, as dicts: address, port, state, uid, inode.

    listening_on: a port; then only the LISTEN sockets on it. A check runs before every request
    and the table also lists every connection (hundreds in TIME_WAIT after an import), so lines
    are skipped before their address is decoded: ~0.3 ms a check instead of ~3-5 ms."""
    sockets = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10 or ":" not in fields[1]:
            continue
        hex_address, hex_port = fields[1].rsplit(":", 1)
        port, state = int(hex_port, 16), fields[3].upper()
        if listening_on is not None and (port != listening_on or state != LISTEN):
            continue
        sockets.append({"address": _address(hex_address, byteorder), "port": port,
                        "state": state, "uid": int(fields[7]), "inode": int(fields[9])})
    return sockets


def port_listeners(sockets, port, addresses=_LOOPBACK_AND_WILDCARD):
    """The LISTEN sockets bound to `port` on one of `addresses` (loopback and wildcards)."""
    wanted = set(str(ipaddress.ip_address(a)) for a in addresses)
    return [s for s in sockets if s["state"] == LISTEN and s["port"] == port and s["address"] in wanted]


def user_name(uid):
    try:
        import pwd
        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return None


def describe_uid(uid, name_of=user_name):
    name = name_of(uid)
    return "uid %d (%s)" % (uid, name) if name else "uid %d" % uid


def check_listeners(listeners, port, own_uid, name_of=user_name):
    """Raise ListenerError unless every listener on the port belongs to own_uid."""
    if not listeners:
        raise NoListener("nothing listens on port %d" % port)
    strangers = sorted(set(s["uid"] for s in listeners if s["uid"] != own_uid))
    if strangers:
        holders = ", ".join(describe_uid(uid, name_of) for uid in strangers)
        raise ListenerError(
            "port %d is held by %s, not by this account (%s): another account listens where Label "
            "Studio should be, so nothing (no API token, no study data) was sent to it. Is Label "
            "Studio stopped or restarting? Find the process with `ss -ltnp 'sport = :%d'` and restart "
            "Label Studio (deploy.yml) once the port is free"
            % (port, holders, describe_uid(own_uid, name_of), port))


def url_addresses(host):
    """The listener addresses that matter for a URL's host, besides loopback and wildcards."""
    extra = []
    try:
        extra = [info[4][0] for info in socket.getaddrinfo(host, None, 0, socket.SOCK_STREAM)]
    except (socket.gaierror, UnicodeError):
        pass
    return tuple(set(_LOOPBACK_AND_WILDCARD) | set(a.split("%")[0] for a in extra))


def listener_owners(port, host="127.0.0.1", proc_net="/proc/net"):
    """The LISTEN sockets on the port read from /proc/net/tcp and tcp6 (Linux only)."""
    sockets, found = [], False
    for name in ("tcp", "tcp6"):
        path = os.path.join(proc_net, name)
        try:
            with open(path) as handle:
                sockets.extend(parse_proc_net_tcp(handle.read(), listening_on=port))
            found = True
        except (IOError, OSError):
            continue  # tcp6 is missing where IPv6 is disabled
    if not found:
        raise ListenerUnknown(
            "cannot check who listens on port %d: %s/tcp is not readable here. The modules run on "
            "the Linux node that runs Label Studio; they refuse to send the API token or study data "
            "to a listener whose owner they cannot see" % (port, proc_net))
    return port_listeners(sockets, port, url_addresses(host))


def verify_listener(port, host="127.0.0.1", own_uid=None, proc_net="/proc/net"):
    """Raise ListenerError unless the port's listener belongs to this account."""
    check_listeners(listener_owners(port, host, proc_net), port,
                    os.getuid() if own_uid is None else own_uid)
