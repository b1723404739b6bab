// make-serve-urls.mjs - signed URL paths from imgproxy's own URL builder
// (@imgproxy/imgproxy-node) for one source that kinglet really serves.
// Usage: node make-serve-urls.mjs KEY_HEX SALT_HEX SOURCE_URL
// Output: one line per case: "<path>\t<expect>", where expect is WxH (the
// thumbnail's size for a 227x149 source such as testorig.jpg), "200" (any
// size), or another status code. Presets "thumb" and "sharp" are the ones
// the test config defines.
import { generateImageUrl } from "@imgproxy/imgproxy-node";

const [key, salt, src] = process.argv.slice(2);
if (!key || !salt || !src) {
	console.error("usage: node make-serve-urls.mjs KEY_HEX SALT_HEX SOURCE_URL");
	process.exit(2);
}
const b64url = (s) => Buffer.from(s).toString("base64url");
const plain = { value: src, displayAs: "plain" };
const base64 = { value: src, displayAs: "base64" };

// [url, options, expect]
const cases = [
	[plain, { resize: { resizing_type: "fit", width: 100, height: 100 } }, "100x66"],
	[base64, { resize: { resizing_type: "fit", width: 100, height: 100 } }, "100x66"],
	[plain, { width: 50 }, "50x33"],
	[plain, { w: 50 }, "50x33"],
	[plain, { height: 30 }, "46x30"],
	[plain, { s: { height: 30 } }, "46x30"],
	[plain, { rs: { resizing_type: "fill", width: 80, height: 80 } }, "80x80"],
	[plain, { resizing_type: "fill-down", width: 80, height: 60 }, "80x60"],
	[plain, { rt: "force", w: 40, h: 70 }, "40x70"],
	[plain, { resizing_type: "auto", width: 60, height: 60 }, "60x60"],
	[plain, { size: { width: 60, height: 60, extend: { extend: true } } }, "60x60"],
	[plain, { ex: { extend: true, gravity: { type: "no" } }, width: 60, height: 60 }, "60x60"],
	[plain, { crop: { width: 100, height: 100 }, width: 50 }, "50x50"],
	[plain, { c: { width: 0.5, height: 0.5, gravity: { type: "nowe" } } }, "114x75"],
	[plain, { rotate: 90, width: 60 }, "60x91"],
	[plain, { rot: 270, ar: false, h: 60 }, "39x60"],
	[plain, { dpr: 2, width: 50 }, "100x66"],
	[plain, { enlarge: true, width: 454 }, "454x298"],
	[plain, { el: false, width: 454 }, "227x149"],
	[plain, { min_width: 100, w: 50 }, "50x66"],   // scaled to mw, then cut to w (imgproxy documents it)
	[plain, { mh: 40, h: 20 }, "61x20"],
	[plain, { zoom: 0.5 }, "114x75"],
	[plain, { z: { zoom_x: 0.5, zoom_y: 1 }, rt: "force" }, "114x149"],
	[plain, { gravity: { type: "soea" }, rt: "fill", w: 50, h: 50 }, "50x50"],
	[plain, { g: { type: "fp", x: 0.3, y: 0.7 }, rt: "fill", w: 50, h: 50 }, "50x50"],
	[plain, { gravity: { type: "sm" }, rt: "fill", w: 50, h: 50 }, "50x50"],
	[plain, { background: "ff8800", w: 50 }, "50x33"],
	[plain, { bg: { r: 1, g: 2, b: 3 }, w: 50 }, "50x33"],
	[plain, { quality: 50, w: 50 }, "50x33"],
	[plain, { q: 95, format: "png", w: 50 }, "50x33"],
	[plain, { f: "jpg", w: 50 }, "50x33"],
	[plain, { ext: "webp" }, "422"],
	[{ value: src + "@png", displayAs: "plain" }, { w: 50 }, "50x33"],
	[plain, { strip_metadata: false, cachebuster: "v42", w: 50 }, "50x33"],
	[plain, { sm: true, cb: "x", w: 50 }, "50x33"],
	[plain, { expires: 4102444800, w: 50 }, "50x33"],
	[plain, { exp: 1, w: 50 }, "404"],
	[plain, { filename: { name: "thumbnail" }, w: 50 }, "50x33"],
	[plain, { fn: { name: b64url("résumé"), encoded: true }, w: 50 }, "50x33"],
	[plain, { return_attachment: true, w: 50 }, "50x33"],
	[plain, { att: false, w: 50 }, "50x33"],
	[plain, { preset: ["thumb"] }, "200"],
	[plain, { pr: ["thumb", "sharp"], width: 100 }, "200"],
	[plain, {
		resize: { resizing_type: "fill", width: 64, height: 48, enlarge: true,
			extend: { extend: true, gravity: { type: "so" } } },
		dpr: 1, gravity: { type: "sowe" }, crop: { width: 200, height: 140 }, auto_rotate: false,
		rotate: 180, background: "00ff00", quality: 90, format: "jpg", strip_metadata: true,
		cachebuster: "x1", expires: 4102444800, filename: { name: "all" }, return_attachment: true,
	}, "64x48"],
];

const out = [];
for (const [url, options, expect] of cases) {
	out.push(`${generateImageUrl({ endpoint: "", url, options, key, salt })}\t${expect}`);
}
process.stdout.write(out.join("\n") + "\n");
