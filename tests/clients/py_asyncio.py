"""Streamed completions over asyncio streams (raw HTTP/1.1, chunked);
prints one JSON line per request with time.monotonic_ns stamps (start,
first token, response read to its end).
usage: py_asyncio.py PORT N keepalive|new|concurrent [X-Fixture value]
concurrent: N requests at once, each on its own connection.
TTFT_TEST_MAX_TOKENS=K asks for K tokens (default 5) with ignore_eos; a
line carries the server's "timings" when the stream had them (llama.cpp)."""
import asyncio, json, os, sys, time

port, n, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
fixture = sys.argv[4] if len(sys.argv) > 4 else ""
max_tokens = os.environ.get("TTFT_TEST_MAX_TOKENS")
request = {"prompt": "Explain TTFT.", "max_tokens": int(max_tokens or 5), "stream": True}
if max_tokens:
    request["ignore_eos"] = True

async def one(reader, writer):
    body = json.dumps(request).encode()
    writer.write(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"X-Fixture: " + fixture.encode() + b"\r\n"
                 b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    await writer.drain()
    await reader.readuntil(b"\r\n\r\n")
    first, tokens, buf, timings = None, 0, b"", None
    while True:
        size = int((await reader.readuntil(b"\r\n")).strip(), 16)
        data = await reader.readexactly(size + 2)
        if size == 0:
            return first, tokens, timings
        buf += data[:-2]
        while b"\n\n" in buf:
            ev, buf = buf.split(b"\n\n", 1)
            if ev.startswith(b"data: {"):
                obj = json.loads(ev[6:])
                timings = obj.get("timings", timings)
                if (obj.get("choices") or [{}])[0].get("text"):
                    tokens += 1
                    first = first or time.monotonic_ns()

def line(t0, first, tokens, timings):
    out = {"start_ns": t0, "first_ns": first, "end_ns": time.monotonic_ns(),
           "tokens": tokens}
    if timings:
        out["timings"] = timings
    return out

async def concurrent():
    async def fresh():
        t0 = time.monotonic_ns()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        got = line(t0, *await one(reader, writer))
        writer.close()
        await writer.wait_closed()
        return got
    for got in await asyncio.gather(*(fresh() for _ in range(n))):
        print(json.dumps(got), flush=True)

async def main():
    if mode == "concurrent":
        return await concurrent()
    conn = None
    for i in range(n):
        t0 = time.monotonic_ns()
        if conn is None or mode == "new":
            conn = await asyncio.open_connection("127.0.0.1", port)
        print(json.dumps(line(t0, *await one(*conn))), flush=True)
        if mode == "new":
            conn[1].close()
            await conn[1].wait_closed()

asyncio.run(main())
