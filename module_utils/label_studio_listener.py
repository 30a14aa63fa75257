# -*- coding: utf-8 -*-
"""Who listens on Label Studio's port: the check made before a token or study data is sent.

On a shared node any account may bind 127.0.0.1:PORT while Label Studio is stopped or
restarting, and would then receive the admin API token and report text. The kernel records the
owner (uid) of every socket; a LISTEN socket on the port that belongs to another uid is an
impostor. listener_owners() asks the kernel for the listening sockets alone (sock_diag netlink,
as `ss -ltn` does: ~0.1 ms) and reads /proc/net/tcp and tcp6 where netlink cannot answer. Those
files list every socket and cost ~2-5 ms each to read whatever they hold (the kernel walks its
whole connection table), and the check runs before every request: ~0.2 s of an assign.yml run.
The parsing and the decision are pure functions (unit tested).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import socket
import struct
import sys

LISTEN = "0A"
TCP_LISTEN = 10  # the kernel's state number; /proc/net/tcp prints it in hex (LISTEN above)
# Addresses whose listener receives a connection to Label Studio on this node: the loopback
# addresses and the wildcards (a socket on 0.0.0.0 or :: takes connections to 127.0.0.1 too).
_LOOPBACK_AND_WILDCARD = ("127.0.0.1", "0.0.0.0", "::1", "::", "::ffff:127.0.0.1", "::ffff:0.0.0.0")


class ListenerError(Exception):
    """The port's listener is not the deploying account's, or cannot be checked."""


class NoListener(ListenerError):
    """Nothing listens on the port (yet): a caller that retries may try again."""


class ListenerUnknown(ListenerError):
    """The owner cannot be seen here (neither sock_diag nor /proc/net/tcp, e.g. a macOS controller)."""


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


# sock_diag (linux/sock_diag.h, linux/inet_diag.h): one dump request for the TCP sockets of one
# address family in the LISTEN state; the kernel answers inet_diag_msg records, then NLMSG_DONE.
_NETLINK_SOCK_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NLM_F_REQUEST_DUMP = 0x1 | 0x300
_NLMSG_ERROR, _NLMSG_DONE = 2, 3
_NLMSG_HEADER = struct.Struct("=IHHII")  # length, type, flags, sequence, sender's port id
# inet_diag_req_v2: family, protocol, extensions, pad, states; then an all-zero inet_diag_sockid
# (48 bytes): a dump matches on family, protocol and states only.
_DIAG_REQUEST = struct.Struct("=BBBBI48x")
# inet_diag_msg: family, state, timer, retransmits, then inet_diag_sockid (source and
# destination port, big endian; source and destination address, 16 bytes each, an IPv4 address
# in the first 4; interface; cookie), expires, read queue, write queue, uid, inode.
_DIAG_MESSAGE = struct.Struct("=BBBB2s2s16s16sI8xIIIII")


class NetlinkUnavailable(Exception):
    """The kernel's sock_diag cannot be asked here (no netlink, refused, or an odd answer)."""


def parse_inet_diag(data, sequence, listening_on=None):
    """(sockets, done) from one netlink read: dicts as parse_proc_net_tcp's for the TCP sockets
    the kernel listed (only the LISTEN sockets on `listening_on` when given), and whether its
    NLMSG_DONE came. NetlinkUnavailable on an error answer or a record that does not fit."""
    sockets, offset, done = [], 0, False
    while offset + _NLMSG_HEADER.size <= len(data):
        length, kind, _flags, seq, _sender = _NLMSG_HEADER.unpack_from(data, offset)
        if length < _NLMSG_HEADER.size or offset + length > len(data) or seq != sequence:
            raise NetlinkUnavailable("a netlink answer that does not fit its request")
        body = offset + _NLMSG_HEADER.size
        if kind == _NLMSG_DONE:
            done = True
            break
        if kind == _NLMSG_ERROR:
            raise NetlinkUnavailable("sock_diag refused the request (error %d)"
                                     % -struct.unpack_from("=i", data, body)[0])
        if kind == _SOCK_DIAG_BY_FAMILY:
            if length - _NLMSG_HEADER.size < _DIAG_MESSAGE.size:
                raise NetlinkUnavailable("a sock_diag record shorter than inet_diag_msg")
            (family, state, _timer, _retrans, source_port, _dport, source, _dest, _interface,
             _expires, _rqueue, _wqueue, uid, inode) = _DIAG_MESSAGE.unpack_from(data, body)
            port = struct.unpack(">H", source_port)[0]
            if listening_on is None or (port == listening_on and state == TCP_LISTEN):
                packed = source[:4] if family == socket.AF_INET else source
                sockets.append({"address": str(ipaddress.ip_address(packed)), "port": port,
                                "state": "%02X" % state, "uid": uid, "inode": inode})
        offset += (length + 3) & ~3
    return sockets, done


def netlink_listeners(port):
    """The LISTEN sockets on the port (IPv4 and IPv6), as the kernel lists them by sock_diag."""
    sockets = []
    for sequence, family in enumerate((socket.AF_INET, socket.AF_INET6), 1):
        try:
            with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, _NETLINK_SOCK_DIAG) as sock:
                sock.settimeout(5)  # the kernel answers at once; never hang a run on it
                request = _DIAG_REQUEST.pack(family, socket.IPPROTO_TCP, 0, 0, 1 << TCP_LISTEN)
                sock.sendto(_NLMSG_HEADER.pack(_NLMSG_HEADER.size + len(request),
                                               _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST_DUMP,
                                               sequence, 0) + request, (0, 0))
                done = False
                while not done:
                    data, (sender, _groups) = sock.recvfrom(65536)
                    if sender != 0:  # only the kernel's answer counts
                        continue
                    found, done = parse_inet_diag(data, sequence, listening_on=port)
                    sockets.extend(found)
        except (AttributeError, OSError, struct.error) as err:  # no AF_NETLINK (not Linux), refused, timeout
            raise NetlinkUnavailable(str(err))
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


def listener_owners(port, host="127.0.0.1"):
    """The LISTEN sockets on the port that take connections to `host` (Linux only): from the
    kernel's sock_diag, else from /proc/net/tcp and tcp6."""
    try:
        sockets = netlink_listeners(port)
    except NetlinkUnavailable:
        sockets = proc_listeners(port)
    return port_listeners(sockets, port, url_addresses(host))


def proc_listeners(port, proc_net="/proc/net"):
    """The LISTEN sockets on the port read from /proc/net/tcp and tcp6."""
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
    return sockets


def verify_listener(port, host="127.0.0.1", own_uid=None):
    """Raise ListenerError unless the port's listener belongs to this account."""
    check_listeners(listener_owners(port, host), port, os.getuid() if own_uid is None else own_uid)
