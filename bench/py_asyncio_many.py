"""The named alternative for bench/probe_256.sh: N concurrent streams on
asyncio (raw HTTP/1.1), marking each first token in the shim's log through
ttft_mark (ctypes), as ttft-probe does. usage: py_asyncio_many.py PORT N"""
import asyncio, ctypes, json, sys

port, n = int(sys.argv[1]), int(sys.argv[2])
mark = ctypes.CDLL(None).ttft_mark

async def one():
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    fd = writer.get_extra_info("socket").fileno()
    body = json.dumps({"prompt": "x", "max_tokens": 64, "stream": True}).encode()
    writer.write(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
                 % (len(body), body))
    await reader.readuntil(b"\r\n\r\n")
    first = True
    while True:
        size = int((await reader.readuntil(b"\r\n")).strip(), 16)
        data = await reader.readexactly(size + 2)
        if size == 0:
            break
        if first and data.startswith(b"data: {") and json.loads(data[6:])["choices"][0]["text"]:
            mark(fd, 2)
            first = False
    writer.close()

async def main():
    await asyncio.gather(*(one() for _ in range(n)))

asyncio.run(main())
