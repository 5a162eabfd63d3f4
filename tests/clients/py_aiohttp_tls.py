"""Streamed completions over HTTPS with aiohttp (asyncio streams with an ssl
context where aiohttp is not installed): N requests on one keep-alive TLS
connection and, when PLAINPORT is not 0, N more on one plaintext connection
at the same time, in the same event loop. One JSON line per request with
time.monotonic_ns stamps.
usage: py_aiohttp_tls.py TLSPORT PLAINPORT N CAFILE"""
import asyncio, json, ssl, sys, time

tls_port, plain_port, n, cafile = (int(sys.argv[1]), int(sys.argv[2]),
                                   int(sys.argv[3]), sys.argv[4])
body = json.dumps({"prompt": "Explain TTFT.", "max_tokens": 5, "stream": True})
ctx = ssl.create_default_context(cafile=cafile)
try:
    import aiohttp
    client = "aiohttp"
except ImportError:
    client = "asyncio"


def token(line):
    return line.startswith(b"data: {") and json.loads(line[6:])["choices"][0]["text"]


async def series_aiohttp(port, tls):
    url = "%s://127.0.0.1:%d/v1/completions" % ("https" if tls else "http", port)
    out = []
    conn = aiohttp.TCPConnector(limit=1, ssl=ctx if tls else False)
    async with aiohttp.ClientSession(connector=conn) as session:
        for _ in range(n):
            t0 = time.monotonic_ns()
            first, tokens = None, 0
            async with session.post(url, data=body,
                                    headers={"Content-Type": "application/json"}) as resp:
                async for line in resp.content:
                    if token(line):
                        tokens += 1
                        first = first or time.monotonic_ns()
            out.append({"tls": tls, "start_ns": t0, "first_ns": first, "tokens": tokens})
    return out


async def series_asyncio(port, tls):
    out = []
    t0 = time.monotonic_ns()  # the first request's start includes the connect
    reader, writer = await asyncio.open_connection("127.0.0.1", port,
                                                   ssl=ctx if tls else None)
    for i in range(n):
        if i:
            t0 = time.monotonic_ns()
        writer.write(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                     % (len(body), body.encode()))
        await writer.drain()
        await reader.readuntil(b"\r\n\r\n")
        first, tokens = None, 0
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            data = await reader.readexactly(size + 2)
            if size == 0:
                break
            for line in data.split(b"\n"):
                if token(line):
                    tokens += 1
                    first = first or time.monotonic_ns()
        out.append({"tls": tls, "start_ns": t0, "first_ns": first, "tokens": tokens})
    writer.close()
    await writer.wait_closed()
    return out


async def main():
    series = series_aiohttp if client == "aiohttp" else series_asyncio
    jobs = [series(tls_port, True)]
    if plain_port:
        jobs.append(series(plain_port, False))
    for rows in await asyncio.gather(*jobs):
        for r in rows:
            r["client"] = client
            print(json.dumps(r), flush=True)

asyncio.run(main())
