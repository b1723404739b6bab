// sharp-server.js PORT ROOT: the sharp anchor for the thumbs section of
// `make bench`. One Node.js process on 127.0.0.1:PORT; GET /NAME reads
// ROOT/NAME and answers a thumbnail fitting inside 300x300 (no enlarging),
// JPEG q80 for a JPEG source and PNG for a PNG source (the output format
// follows the source, as imgproxy's and nginx image_filter's do).
// One image at a time: sharp.concurrency(1) and one libuv worker thread.
'use strict';
process.env.UV_THREADPOOL_SIZE = process.env.UV_THREADPOOL_SIZE || '1';
const http = require('http');
const fs = require('fs');
const path = require('path');
const sharp = require('sharp');

sharp.concurrency(1);
sharp.cache(false);             // no operation cache: every request does the work

const port = Number(process.argv[2]);
const root = path.resolve(process.argv[3] || '.');

http.createServer((req, res) => {
  const name = decodeURIComponent(req.url.split('?')[0]).replace(/^\/+/, '');
  const file = path.resolve(root, name);
  if (!file.startsWith(root + path.sep)) {
    res.writeHead(404).end('not found\n');
    return;
  }
  fs.readFile(file, (err, buf) => {
    if (err) {
      res.writeHead(404).end('not found\n');
      return;
    }
    const png = file.endsWith('.png');
    let p = sharp(buf).rotate().resize(300, 300, { fit: 'inside', withoutEnlargement: true });
    p = png ? p.png() : p.jpeg({ quality: 80 });
    p.toBuffer().then((out) => {
      res.writeHead(200, { 'Content-Type': png ? 'image/png' : 'image/jpeg', 'Content-Length': out.length });
      res.end(out);
    }, (e) => {
      res.writeHead(422).end(e.message + '\n');
    });
  });
}).listen(port, '127.0.0.1');
