"""The integration harness talks to a real redis-server."""
import redis


def test_real_redis_server_answers(redis_url):
    client = redis.Redis.from_url(redis_url)
    assert client.ping()
    assert client.info("server")["redis_version"]
