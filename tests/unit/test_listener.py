"""Who listens on Label Studio's port: the kernel's answers (sock_diag netlink, /proc/net/tcp)
parsed, and the ownership decision."""
import os
import re
import socket
import struct

import pytest

from ansible.module_utils.label_studio_listener import (ListenerError, NetlinkUnavailable,
                                                         NoListener, check_listeners,
                                                         listener_owners, netlink_listeners,
                                                         parse_inet_diag, parse_proc_net_tcp,
                                                         port_listeners, proc_listeners)

# Captured on this kind of machine (x86_64, little endian): a listener on 127.0.0.1:48167 owned
# by uid 0, one established connection to it, and uid 1001 on 0.0.0.0:8080.
TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   1: 0100007F:BC27 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 40640 1 00000000198f32f9 100 0 0 10 0
   2: 0100007F:9654 0100007F:BC27 01 00000000:00000000 00:00000000 00000000     0        0 40642 2 00000000b105f613 20 0 0 10 -1
   3: 0100007F:BC27 0100007F:9654 01 00000000:00000000 00:00000000 00000000     0        0 40643 1 000000009d991fb9 20 0 0 10 -1
   4: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1001        0 40650 1 00000000198f32f9 100 0 0 10 0
   5: 0200007F:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1002        0 40651 1 00000000198f32f9 100 0 0 10 0
"""
TCP6 = """\
  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:BC27 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 40641 1 00000000660b8ec6 100 0 0 10 0
   1: 00000000000000000000000000000000:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1003        0 40652 1 00000000660b8ec6 100 0 0 10 0
"""


def test_parses_addresses_ports_states_and_owners():
    sockets = parse_proc_net_tcp(TCP, byteorder="little")
    assert sockets[0] == {"address": "127.0.0.1", "port": 48167, "state": "0A", "uid": 0, "inode": 40640}
    assert [(s["address"], s["port"], s["state"], s["uid"]) for s in sockets[1:]] == [
        ("127.0.0.1", 38484, "01", 0), ("127.0.0.1", 48167, "01", 0),
        ("0.0.0.0", 8080, "0A", 1001), ("127.0.0.2", 8081, "0A", 1002)]
    six = parse_proc_net_tcp(TCP6, byteorder="little")
    assert [(s["address"], s["port"], s["uid"]) for s in six] == [("::1", 48167, 0), ("::", 8081, 1003)]


def test_big_endian_words_are_read_in_order():
    line = "  sl header\n   0: 7F000001:1F90 00000000:0000 0A 0:0 0:0 0 7 0 99\n"
    assert parse_proc_net_tcp(line, byteorder="big")[0]["address"] == "127.0.0.1"


def test_only_listen_sockets_on_loopback_or_wildcard_count():
    sockets = parse_proc_net_tcp(TCP, "little") + parse_proc_net_tcp(TCP6, "little")
    assert [s["uid"] for s in port_listeners(sockets, 48167)] == [0, 0]  # v4 and v6, not the connection
    assert [s["uid"] for s in port_listeners(sockets, 8080)] == [1001]  # 0.0.0.0 takes 127.0.0.1's connections
    assert [s["uid"] for s in port_listeners(sockets, 8081)] == [1003]  # :: yes, 127.0.0.2 no
    assert port_listeners(sockets, 9999) == []


def test_listening_on_keeps_the_port_s_listeners_only():
    # Not the established connections to or from 48167, not the listeners on other ports.
    assert [(s["address"], s["uid"], s["inode"]) for s in
            parse_proc_net_tcp(TCP, "little", listening_on=48167)] == [("127.0.0.1", 0, 40640)]
    assert [s["uid"] for s in parse_proc_net_tcp(TCP6, "little", listening_on=8081)] == [1003]
    assert parse_proc_net_tcp(TCP, "little", listening_on=38484) == []  # a client port, not a listener


def test_own_listener_passes():
    check_listeners([{"uid": 1000}, {"uid": 1000}], 8080, own_uid=1000)


def test_foreign_listener_is_refused_naming_port_uid_and_user():
    with pytest.raises(ListenerError) as err:
        check_listeners([{"uid": 1000}, {"uid": 1234}], 8080, own_uid=1000,
                        name_of={1234: "mallory", 1000: "study"}.get)
    text = str(err.value)
    assert "port 8080 is held by uid 1234 (mallory)" in text
    assert "this account (uid 1000 (study))" in text
    assert not isinstance(err.value, NoListener)


def test_unknown_user_name_still_names_the_uid():
    with pytest.raises(ListenerError, match=r"port 8080 is held by uid 4321, not"):
        check_listeners([{"uid": 4321}], 8080, own_uid=0, name_of=lambda uid: None)


def test_nothing_listening_is_its_own_error():
    with pytest.raises(NoListener):
        check_listeners([], 8080, own_uid=0)


def test_without_proc_net_tcp_nothing_is_trusted(tmp_path):
    with pytest.raises(ListenerError, match=r"cannot check who listens on port 8080: .*/tcp is not readable"):
        proc_listeners(8080, proc_net=str(tmp_path))


def test_reads_the_files(tmp_path):
    (tmp_path / "tcp").write_text(TCP)  # no tcp6: IPv6 disabled
    assert [s["uid"] for s in proc_listeners(8080, proc_net=str(tmp_path))] == [1001]


def _netlink_message(kind, body, sequence=7):
    return struct.pack("=IHHII", 16 + len(body), kind, 2, sequence, 0) + body


def _diag_record(family, state, port, address, uid, inode):
    packed = socket.inet_pton(family, address).ljust(16, b"\0")
    return _netlink_message(20, struct.pack("=BBBB", family, state, 0, 0) + struct.pack(">HH", port, 0)
                            + packed + bytes(16) + bytes(4 + 8) + struct.pack("=IIIII", 0, 0, 0, uid, inode))


def test_sock_diag_records_are_read_like_proc_lines():
    data = (_diag_record(socket.AF_INET, 10, 48167, "127.0.0.1", 0, 40640)
            + _diag_record(socket.AF_INET6, 10, 8081, "::", 1003, 40652)
            + _diag_record(socket.AF_INET, 10, 8080, "0.0.0.0", 1001, 40650))
    sockets, done = parse_inet_diag(data, 7)
    assert not done  # more reads follow until NLMSG_DONE
    assert sockets[0] == {"address": "127.0.0.1", "port": 48167, "state": "0A", "uid": 0, "inode": 40640}
    assert [(s["address"], s["port"], s["uid"]) for s in sockets[1:]] == [("::", 8081, 1003),
                                                                          ("0.0.0.0", 8080, 1001)]
    only, done = parse_inet_diag(data + _netlink_message(3, struct.pack("=i", 0)), 7, listening_on=8081)
    assert done and [s["inode"] for s in only] == [40652]


@pytest.mark.parametrize("data, problem", [
    (_netlink_message(2, struct.pack("=i", -13) + bytes(16)), "refused the request (error 13)"),
    (_netlink_message(3, struct.pack("=i", 0), sequence=8), "does not fit its request"),
    (_diag_record(socket.AF_INET, 10, 1, "127.0.0.1", 0, 1)[:-8], "does not fit its request"),
    (_netlink_message(20, bytes(40)), "shorter than inet_diag_msg"),
], ids=["error answer", "another request's answer", "cut short", "short record"])
def test_an_odd_sock_diag_answer_is_not_trusted(data, problem):
    with pytest.raises(NetlinkUnavailable, match=re.escape(problem)):
        parse_inet_diag(data, 7)


@pytest.fixture
def listening_port():
    """A real listener on 127.0.0.1:PORT (and ::1:PORT where IPv6 is up), owned by this account."""
    sockets = [socket.socket(socket.AF_INET)]
    sockets[0].bind(("127.0.0.1", 0))
    port = sockets[0].getsockname()[1]
    try:
        six = socket.socket(socket.AF_INET6)
        six.bind(("::1", port))
        sockets.append(six)
    except OSError:
        pass  # no IPv6 here
    for sock in sockets:
        sock.listen()
    yield port, len(sockets)
    for sock in sockets:
        sock.close()


def test_the_kernel_answers_the_same_by_netlink_as_in_proc(listening_port):
    port, count = listening_port
    by_netlink = netlink_listeners(port)
    assert len(by_netlink) == count and all(s["state"] == "0A" for s in by_netlink)
    assert sorted(by_netlink, key=str) == sorted(proc_listeners(port), key=str)
    assert [s["uid"] for s in listener_owners(port)] == [os.getuid()] * count


def test_without_netlink_proc_answers(listening_port, monkeypatch):
    port, count = listening_port
    expected = listener_owners(port)
    monkeypatch.delattr(socket, "AF_NETLINK")  # as on a Python without netlink
    with pytest.raises(NetlinkUnavailable):
        netlink_listeners(port)
    fallback = listener_owners(port)
    assert [(s["port"], s["state"], s["uid"]) for s in fallback] == [(port, "0A", os.getuid())] * count
    assert fallback == expected
