// Draws Skep's tray and app icons as PNGs (run by hand when the design changes; the PNGs are
// committed). Each health state differs by shape as well as colour, so it reads without colour.
import { deflateSync } from 'node:zlib';
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const outDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'icons');

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buffer) {
  let c = 0xffffffff;
  for (const byte of buffer) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}
function encodePng(size, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  const rows = [];
  for (let y = 0; y < size; y++) rows.push(Buffer.from([0]), rgba.subarray(y * size * 4, (y + 1) * size * 4));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Renders `inside(x, y)` (coordinates in [-1, 1]) with 4×4 supersampling. */
function draw(size, color, inside) {
  const rgba = Buffer.alloc(size * size * 4);
  const samples = 4;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let hits = 0;
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const x = ((px + (sx + 0.5) / samples) / size) * 2 - 1;
          const y = ((py + (sy + 0.5) / samples) / size) * 2 - 1;
          if (inside(x, y)) hits++;
        }
      }
      const offset = (py * size + px) * 4;
      rgba[offset] = color[0];
      rgba[offset + 1] = color[1];
      rgba[offset + 2] = color[2];
      rgba[offset + 3] = Math.round((hits / (samples * samples)) * 255);
    }
  }
  return encodePng(size, rgba);
}

const radius = (x, y) => Math.hypot(x, y);
const SHAPES = {
  // A full disc: all is well.
  healthy: { color: [46, 160, 67], inside: (x, y) => radius(x, y) <= 0.8 },
  // A disc with its lower half hollow: something is down, the swarm still works.
  degraded: { color: [214, 140, 0], inside: (x, y) => radius(x, y) <= 0.8 && (y <= 0 || radius(x, y) >= 0.55) },
  // A disc crossed out: quorum lost or no leader.
  critical: {
    color: [210, 45, 40],
    inside: (x, y) => radius(x, y) <= 0.8 && !(Math.abs(x - y) < 0.22 || Math.abs(x + y) < 0.22),
  },
  // A ring: not in a swarm, or the node stopped.
  offline: { color: [128, 134, 142], inside: (x, y) => radius(x, y) <= 0.8 && radius(x, y) >= 0.55 },
};

mkdirSync(outDir, { recursive: true });
for (const [state, shape] of Object.entries(SHAPES)) {
  writeFileSync(path.join(outDir, `tray-${state}.png`), draw(16, shape.color, shape.inside));
  writeFileSync(path.join(outDir, `tray-${state}@2x.png`), draw(32, shape.color, shape.inside));
  // macOS template images: black and alpha only; the system recolours them for light and dark menu
  // bars, which is why the states must differ by shape.
  writeFileSync(path.join(outDir, `tray-${state}Template.png`), draw(16, [0, 0, 0], shape.inside));
  writeFileSync(path.join(outDir, `tray-${state}Template@2x.png`), draw(32, [0, 0, 0], shape.inside));
}
// The app icon: a skep (a woven beehive) drawn as stacked rounded bands.
const hive = (x, y) => {
  const band = Math.floor((y + 1) * 3.5);
  const halfWidth = [0.35, 0.6, 0.75, 0.82, 0.82, 0.75, 0.6][band] ?? 0;
  const inBand = (y + 1) * 3.5 - band > 0.12;
  return y > -0.9 && y < 0.95 && Math.abs(x) < halfWidth && inBand && !(y > 0.55 && Math.abs(x) < 0.14);
};
writeFileSync(path.join(outDir, 'icon.png'), draw(512, [217, 162, 27], hive));
console.log(`icons written to ${outDir}`);
