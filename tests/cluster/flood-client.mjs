// An anonymous attacker on the cluster port, as its own process (so it can hold thousands of
// sockets under its own file-descriptor limit). Plain Node, no Skep code: it speaks the frame
// format by hand, as a stranger would. Runs until SIGTERM; prints one JSON line of counters a
// second. Modes:
//   unread   ADDR TOTAL_BYTES CONNECTIONS  requests for an unknown method, replies never read
//   partial  ADDR CONNECTIONS              each connection sends a frame header and part of its
//                                          payload, then holds it (half announce 15 MiB, half
//                                          just under 64 KiB); closed ones are reopened
//   idle     CONNECTIONS ADDR...           idle sockets spread over the addresses, half plain TCP
//                                          that never starts TLS, half anonymous TLS that never
//                                          sends a frame; closed ones are reopened 10–20 s later
import net from 'node:net';
import tls from 'node:tls';

const [mode, ...args] = process.argv.slice(2);
// bytesSent: handed to the kernel (the server could read them); bytesQueued: all the writes.
const counters = { mode, opened: 0, closed: 0, open: 0, bytesSent: 0, bytesQueued: 0 };
let bytesSentByClosed = 0;
const sentBy = (socket) => Math.max(0, (socket.bytesWritten ?? 0) - socket.writableLength);
const sockets = new Set();
let stopping = false;

function parse(address) {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i), port: Number(address.slice(i + 1)) };
}

/** Opens one connection; `onReady` runs once it is usable; `reopenMs` > 0 reopens it after a close. */
function open(address, kind, onReady, reopenMs) {
  const { host, port } = parse(address);
  const socket = kind === 'tcp'
    ? net.connect({ host, port })
    : tls.connect({ host, port, rejectUnauthorized: false, minVersion: 'TLSv1.3' });
  socket.on('error', () => {});
  socket.once(kind === 'tcp' ? 'connect' : 'secureConnect', () => {
    counters.opened++;
    counters.open++;
    socket.counted = true;
    onReady(socket);
  });
  sockets.add(socket);
  socket.once('close', () => {
    sockets.delete(socket);
    bytesSentByClosed += sentBy(socket);
    if (socket.counted) {
      counters.open--;
      counters.closed++;
    }
    if (!stopping && reopenMs() > 0) setTimeout(() => open(address, kind, onReady, reopenMs), reopenMs()).unref();
  });
}

/** A request frame for the method "x" with no body: 15 bytes, answered by an UNKNOWN_METHOD error. */
function requestFrame(id) {
  const frame = Buffer.alloc(15);
  frame.writeUInt32BE(11, 0);
  frame.writeUInt8(1, 4);
  frame.writeUInt32BE(id, 5);
  frame.writeUInt8(1, 9);
  frame.write('x', 10);
  frame.writeUInt32BE(0, 11);
  return frame;
}

if (mode === 'unread') {
  const [address, totalBytes, connections] = [args[0], Number(args[1]), Number(args[2])];
  const perConnection = Math.floor(totalBytes / connections / 15);
  for (let c = 0; c < connections; c++) {
    open(address, 'tls', (socket) => {
      socket.pause();
      // 64 KiB writes of 15-byte requests; whatever the server does not take stays queued here.
      const batch = Buffer.concat(Array.from({ length: 4096 }, (_, i) => requestFrame(i + 1)));
      for (let sent = 0; sent < perConnection; sent += 4096) {
        socket.write(batch);
        counters.bytesQueued += batch.length;
      }
    }, () => 0);
  }
} else if (mode === 'partial') {
  const [address, connections] = [args[0], Number(args[1])];
  for (let c = 0; c < connections; c++) {
    const announce = c % 2 === 0 ? 15 * 1024 * 1024 : 64 * 1024 - 1;
    open(address, 'tls', (socket) => {
      socket.resume();
      const header = Buffer.alloc(4);
      header.writeUInt32BE(announce);
      socket.write(Buffer.concat([header, Buffer.alloc(Math.min(announce - 1, 60 * 1024), 0x41)]));
      counters.bytesQueued += 4 + Math.min(announce - 1, 60 * 1024);
    }, () => 500);
  }
} else if (mode === 'idle') {
  const [connections, ...addresses] = [Number(args[0]), ...args.slice(1)];
  let c = 0;
  const openNext = () => {
    // Opened 200 at a time so the flood builds up instead of arriving as one SYN burst.
    for (let i = 0; i < 200 && c < connections; i++, c++) {
      const address = addresses[c % addresses.length];
      const kind = c % 2 === 0 ? 'tcp' : 'tls';
      open(address, kind, (socket) => socket.resume(), () => 10_000 + Math.floor(Math.random() * 10_000));
    }
    if (c < connections) setTimeout(openNext, 50);
  };
  openNext();
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}

const report = setInterval(() => {
  counters.bytesSent = bytesSentByClosed + [...sockets].reduce((sum, s) => sum + sentBy(s), 0);
  process.stdout.write(JSON.stringify(counters) + '\n');
}, 1_000);

process.once('SIGTERM', () => {
  stopping = true;
  clearInterval(report);
  process.stdout.write(JSON.stringify(counters) + '\n');
  for (const s of sockets) s.destroy();
  setTimeout(() => process.exit(0), 100);
});
