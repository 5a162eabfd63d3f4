// Streamed completions with Node's built-in fetch (undici, keep-alive);
// prints one JSON line per request with process.hrtime (CLOCK_MONOTONIC):
// start, first token, response read to its end.
// usage: node node_fetch.mjs PORT N [X-Fixture value] [http|https]
const [port, n, fixture = "", scheme = "http"] = process.argv.slice(2);
for (let i = 0; i < Number(n); i++) {
  const t0 = process.hrtime.bigint();
  const res = await fetch(`${scheme}://127.0.0.1:${port}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-fixture": fixture },
    body: JSON.stringify({ prompt: "Explain TTFT.", max_tokens: 5, stream: true }),
  });
  let first = null, tokens = 0, buf = "";
  const dec = new TextDecoder();
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let k;
    while ((k = buf.indexOf("\n\n")) >= 0) {
      const ev = buf.slice(0, k);
      buf = buf.slice(k + 2);
      if (ev.startsWith("data: {") && JSON.parse(ev.slice(6)).choices[0].text) {
        tokens++;
        if (first === null) first = process.hrtime.bigint();
      }
    }
  }
  const end = process.hrtime.bigint();
  console.log(JSON.stringify({ start_ns: Number(t0), first_ns: Number(first),
                               end_ns: Number(end), tokens }));
}
