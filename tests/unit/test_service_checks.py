"""The pure parts of the service checks (v6lab.grading.http): rebuilding a
server's byte stream from the segments that came in on its port, reading
an HTTP answer, and what a message may quote of it. No root, no lab."""

from __future__ import annotations

from v6lab.grading import wire
from v6lab.grading.http import endpoint, parse_response, shown, stream_from

WEB, CLIENT = "2001:db8:100:80::80", ("2001:db8:f00::60", 40000)


def seg(seq: int, payload: bytes = b"", flags: int = 0x18, *, port: str = "l1p1",
        src: str = WEB, outgoing: bool = False) -> wire.Seen:
    p = wire.TcpPacket("02:00:00:00:00:01", "02:00:00:00:00:02", src, CLIENT[0], 64,
                       80, CLIENT[1], seq, 1, flags, payload)
    return wire.Seen(0.0, port, "web", outgoing, False, p)


def test_the_stream_is_rebuilt_in_order_from_the_servers_port_only():
    seen = [seg(1000, flags=0x12), seg(1007, b"world"), seg(1001, b"hello "),
            seg(1001, b"HELLO ", port="l1p2"),             # someone else's cable
            seg(1001, b"hello ", outgoing=True)]            # delivered to web, not sent
    assert stream_from(seen, {"l1p1"}, WEB, 80, CLIENT) == b"hello world"


def test_no_syn_ack_from_the_server_means_no_stream():
    seen = [seg(1000, flags=0x12, port="l0p0"), seg(1001, b"hello", port="l1p1")]
    assert stream_from(seen, {"l1p1"}, WEB, 80, CLIENT) is None


def test_sequence_numbers_wrap():
    isn = (1 << 32) - 3
    seen = [seg(isn, flags=0x12), seg(isn + 1, b"ab"), seg(0, b"cd")]
    assert stream_from(seen, {"l1p1"}, WEB, 80, CLIENT) == b"abcd"


def test_http_answers_are_read_and_quoted_briefly():
    assert parse_response(b"HTTP/1.1 200 OK\r\nServer: x\r\n\r\ntoken\n") == (200, b"token\n")
    assert parse_response(b"HTTP/1.0 404 Not Found\n\nnope") == (404, b"nope")
    assert parse_response(b"SSH-2.0-OpenSSH\r\n") == (0, b"")
    assert shown(b"\x00\x01abc" + b"x" * 80) == "..abc" + "x" * 35 + "…"
    assert endpoint(WEB, 80) == f"[{WEB}]:80" and endpoint("192.0.2.80", 80) == "192.0.2.80:80"
