// Node closes sockets with syscall(SYS_close) (libuv), which the shim once
// missed: a file opened next gets the socket's fd number, and what the
// program writes to it must not become a request. Prints "key value" lines.
// usage: node node_fdreuse.mjs PORT
import http from "node:http";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const port = Number(process.argv[2]);
let sockFd = -1;
const tokens = await new Promise((resolve, reject) => {
  const req = http.request({ host: "127.0.0.1", port, method: "POST", path: "/v1/completions",
    agent: false, headers: { "content-type": "application/json", connection: "close" } }, (res) => {
    let body = "";
    res.setEncoding("utf8");
    res.on("data", (c) => (body += c));
    res.on("end", () => resolve(body.split('"text":" t').length - 1));
  });
  req.on("socket", (s) => s.on("connect", () => (sockFd = s._handle.fd)));
  req.on("error", reject);
  req.end('{"stream":true}');
});
console.log("tokens", tokens);
// let libuv close the socket, then take the lowest free number
await new Promise((r) => setTimeout(r, 50));
const file = path.join(os.tmpdir(), `node_fdreuse.${process.pid}`);
const fd = fs.openSync(file, "w");
console.log("reused", fd === sockFd ? 1 : 0);
fs.writeSync(fd, "GET /from-a-file HTTP/1.1\r\nHost: x\r\n\r\n");
fs.closeSync(fd);
fs.unlinkSync(file);
