"""
llmtap bench addon for mitmdump 8.1.x: curl-style --connect-to.

mitmproxy has no --connect-to. Rewriting flow.request.host (even with
keep_host_header) changes the upstream SNI and the name the certificate is checked
against; rewriting server.address in the server_connect hook keeps SNI but breaks
connection reuse (mitmproxy matches a pooled server connection by address, so every
request would open a new upstream connection). So this addon redirects at the socket
level only: the TCP connect for HOST:PORT goes to the address in BENCH_CONNECT_TO,
while mitmproxy keeps the real host for SNI, Host, verification and reuse, exactly
as llmtap's --connect-to and curl's do.

BENCH_CONNECT_TO is JSON: {"host:port": ["127.0.0.1", 1234], "*": ["127.0.0.1", 5678]}.
"""
import asyncio
import json
import os

_MAP = json.loads(os.environ.get("BENCH_CONNECT_TO", "{}"))
_open_connection = asyncio.open_connection


async def _connect_to(host=None, port=None, *args, **kwargs):
    target = _MAP.get(f"{host}:{port}") or _MAP.get("*")
    if target:
        host, port = target[0], int(target[1])
    return await _open_connection(host, port, *args, **kwargs)


asyncio.open_connection = _connect_to
