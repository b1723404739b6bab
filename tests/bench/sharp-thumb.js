// sharp-thumb.js IN OUT WxH [repeat]: the sharp anchor for `make bench`.
// Makes the same fit-inside thumbnail `repeat` times in one process (so the
// Node.js start-up is paid once) and prints the median milliseconds per image.
'use strict';
const sharp = require('sharp');
sharp.concurrency(1);           // one thread, as kinglet
sharp.cache(false);
const [inp, out, box, rep] = process.argv.slice(2);
const [w, h] = box.split('x').map(Number);
const n = Number(rep || 1);
(async () => {
  const t = [];
  for (let i = 0; i < n; i++) {
    const s = process.hrtime.bigint();
    let p = sharp(inp).rotate().resize(w, h, { fit: 'inside', withoutEnlargement: true });
    p = out.endsWith('.png') ? p.png() : p.jpeg({ quality: 80 });
    await p.toFile(out);
    t.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  t.sort((a, b) => a - b);
  console.log(t[Math.floor(t.length / 2)].toFixed(1));
})().catch((e) => { console.error(e.message); process.exit(1); });
