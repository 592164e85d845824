"""REDIS_URL's Sentinel form (services/redis_conn.py), the password-free URLs logs print, the Socket.IO queue's options."""
from __future__ import annotations

import pytest
import socketio

from services.redis_conn import SentinelRedis, SentinelUrl, connect, is_sentinel, parse_sentinel_url, redacted
from services.web.socketio_queue import CHANNEL, queue_options

S = "redis+sentinel://"


@pytest.mark.parametrize("url,expected", [
    (S + "s1:26379,s2:26380,s3:26381/vigie",
     SentinelUrl((("s1", 26379), ("s2", 26380), ("s3", 26381)), "vigie")),
    (S + "s1,s2/vigie/3", SentinelUrl((("s1", 26379), ("s2", 26379)), "vigie", db=3)),
    (S + "vigie:pa%40ss@s1:26379/vigie/0/", SentinelUrl((("s1", 26379),), "vigie", 0, "vigie", "pa@ss")),
    (S + ":secret@s1/mymaster", SentinelUrl((("s1", 26379),), "mymaster", password="secret")),
    (S + "[::1]:26379,[fe80::2]/vigie", SentinelUrl((("::1", 26379), ("fe80::2", 26379)), "vigie")),
    (S + "s1/vigie?sentinel_password=sp&sentinel_username=sentry",
     SentinelUrl((("s1", 26379),), "vigie", sentinel_username="sentry", sentinel_password="sp")),
    ("REDIS+SENTINEL://s1/vigie", SentinelUrl((("s1", 26379),), "vigie")),
])
def test_a_sentinel_url_names_the_sentinels_the_service_the_db_and_the_credentials(url, expected) -> None:
    assert is_sentinel(url)
    assert parse_sentinel_url(url) == expected


@pytest.mark.parametrize("url,why", [
    (S + "s1:26379", "no service name"),
    (S + "s1:26379/", "no service name"),
    (S + "s1/vigie/zero", "db must be a number"),
    (S + "s1/vigie/0/extra", "too many path parts"),
    (S + "s1:port/vigie", "bad port"),
    (S + "s1:70000/vigie", "out of range"),
    (S + "s1,,s2/vigie", "without a host"),
    (S + "[::1/vigie", "unclosed"),
    (S + "s1/vigie?password=x", "unknown query parameter"),
    ("redis://s1:6379/0", r"not a redis\+sentinel:// URL"),
])
def test_a_malformed_sentinel_url_is_refused_with_the_reason(url, why) -> None:
    with pytest.raises(ValueError, match=why):
        parse_sentinel_url(url)


def test_the_refusal_quotes_the_url_without_its_password() -> None:
    with pytest.raises(ValueError) as refused:
        connect(S + "u:hunter2@s1:26379")
    assert "hunter2" not in str(refused.value) and "u:***@s1:26379" in str(refused.value)


@pytest.mark.parametrize("url", ["redis://h:6379/0", "rediss://u:p@h:6380/1", "unix:///run/redis.sock", "sentinel://h/x"])
def test_other_urls_are_not_sentinel_ones(url) -> None:
    assert not is_sentinel(url)


def test_connect_gives_a_sentinel_client_of_the_service_with_resp2_and_the_timeouts() -> None:
    client = connect(S + "u:pw@s1:26379,s2:26380/vigie/2?sentinel_password=sp", timeout_s=1.5)  # nothing is dialled yet
    try:
        assert isinstance(client, SentinelRedis)
        pool = client.connection_pool
        assert pool.service_name == "vigie" and pool.is_master
        kwargs = client.get_connection_kwargs()
        assert (kwargs["protocol"], kwargs["db"], kwargs["username"], kwargs["password"]) == (2, 2, "u", "pw")
        assert (kwargs["socket_connect_timeout"], kwargs["socket_timeout"]) == (1.5, None)
        sentinels = [s.get_connection_kwargs() for s in client.sentinel.sentinels]
        assert [(k["host"], k["port"]) for k in sentinels] == [("s1", 26379), ("s2", 26380)]
        assert {(k["protocol"], k["password"], k["socket_timeout"]) for k in sentinels} == {(2, "sp", 1.5)}
    finally:
        client.close()


def test_connect_keeps_the_plain_forms() -> None:
    client = connect("redis://u:pw@h:6390/4", timeout_s=2)
    kwargs = client.get_connection_kwargs()
    assert (kwargs["host"], kwargs["port"], kwargs["db"], kwargs["protocol"], kwargs["socket_connect_timeout"]) == ("h", 6390, 4, 2, 2)
    assert not isinstance(client, SentinelRedis)
    client.close()


@pytest.mark.parametrize("url,shown", [
    ("redis://h:6379/0", "redis://h:6379/0"),
    ("redis://:secret@h:6379/0", "redis://:***@h:6379/0"),
    ("rediss://vigie:s3cr@t@h:6380/0?ssl_ca_certs=/etc/ca.pem", "rediss://vigie:***@h:6380/0?ssl_ca_certs=/etc/ca.pem"),
    ("redis://vigie@h/0", "redis://vigie@h/0"),
    (S + "vigie:pw@s1:26379,s2:26379/vigie/0?sentinel_username=s&sentinel_password=sp",
     S + "vigie:***@s1:26379,s2:26379/vigie/0?sentinel_username=s&sentinel_password=***"),
    ("not a url", "not a url"),
])
def test_logs_see_urls_without_their_passwords(url, shown) -> None:
    assert redacted(url) == shown


def test_the_socketio_queue_takes_plain_urls_as_they_are_and_none_when_unset() -> None:
    assert queue_options(None) == {}
    assert queue_options("redis://h:6379/0") == {"message_queue": "redis://h:6379/0"}


def test_the_socketio_queue_follows_sentinel_through_python_socketios_own_grammar() -> None:
    options = queue_options(S + "u:p%40w@s1,s2:26380/vigie/1?sentinel_password=sp", write_only=True)
    manager = options["client_manager"]
    assert isinstance(manager, socketio.RedisManager) and manager.channel == CHANNEL and manager.write_only
    sentinels, service, kwargs = socketio.redis_manager.parse_redis_sentinel_url(manager.redis_url)
    assert (sentinels, service, kwargs) == ([("s1", 26379), ("s2", 26380)], "vigie", {"db": 1})
    assert (manager.redis_options["username"], manager.redis_options["password"]) == ("u", "p@w")
    assert manager.redis_options["sentinel_kwargs"]["password"] == "sp"


@pytest.mark.parametrize("url,why", [(S + "[::1]/vigie", "IPv6"), (S + "s1/my%20master", "service names")])
def test_the_socketio_queue_refuses_what_python_socketio_cannot_read(url, why) -> None:
    with pytest.raises(ValueError, match=why):
        queue_options(url)
