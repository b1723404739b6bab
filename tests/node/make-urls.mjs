// make-urls.mjs - prints imgproxy URL paths built by imgproxy's own URL
// builder (@imgproxy/imgproxy-node), for kinglet's parser to verify.
// Usage: node make-urls.mjs KEY_HEX SALT_HEX
// Output: a first line "KEY_HEX SALT_HEX", then one path per line, each
// followed by a tab and the fields kinglet must parse out of it (tokens of
// tests/unit/t_imgurl.c's dump). Presets "thumb" and "sharp" are the ones
// that checker configures.
import { generateImageUrl } from "@imgproxy/imgproxy-node";

const [key, salt] = process.argv.slice(2);
if (!key || !salt) {
	console.error("usage: node make-urls.mjs KEY_HEX SALT_HEX");
	process.exit(2);
}

const SRC = "https://example.com/images/curiosity.jpg";
const b64url = (s) => Buffer.from(s).toString("base64url");
const plain = (value) => ({ value, displayAs: "plain" });
const base64 = (value) => ({ value, displayAs: "base64" });

// [source, options, expected fields]
const cases = [
	[SRC, { resize: { resizing_type: "fill", width: 300, height: 400, enlarge: false }, gravity: { type: "sm" } },
		`rt=fill w=300 h=400 el=0 g=sm src=${SRC} plain=0`],
	[SRC, { rs: { resizing_type: "fit", width: 200, height: 100, enlarge: true,
		extend: { extend: true, gravity: { type: "soea", x_offset: 5, y_offset: 10 } } } },
		"rt=fit w=200 h=100 el=1 ex=1 exg=soea exx=5 exy=10"],
	[SRC, { resize: { height: 90 } }, "rt=fit w=0 h=90"],
	[SRC, { size: { width: 50, height: 60, enlarge: true, extend: { extend: false } } }, "w=50 h=60 el=1 ex=0"],
	[SRC, { s: { height: 70 } }, "w=0 h=70"],
	[SRC, { resizing_type: "fill-down", width: 640, height: 480 }, "rt=fill-down w=640 h=480"],
	[SRC, { rt: "auto", w: 10, h: 20 }, "rt=auto w=10 h=20"],
	[SRC, { resizing_type: "force", width: 33 }, "rt=force w=33"],
	[SRC, { min_width: 100, min_height: 50 }, "mw=100 mh=50"],
	[SRC, { mw: 7, mh: 8 }, "mw=7 mh=8"],
	[SRC, { zoom: 1.5 }, "zx=1.5 zy=1.5"],
	[SRC, { z: { zoom_x: 2, zoom_y: 0.5 } }, "zx=2 zy=0.5"],
	[SRC, { dpr: 2, enlarge: true }, "dpr=2 el=1"],
	[SRC, { el: false }, "el=0"],
	[SRC, { extend: { extend: true, gravity: { type: "fp", x: 0.25, y: 0.75 } } }, "ex=1 exg=fp exx=0.25 exy=0.75"],
	[SRC, { ex: { extend: true } }, "ex=1 exg=ce"],
	[SRC, { gravity: { type: "noea", x_offset: 10, y_offset: 20 } }, "g=noea gx=10 gy=20"],
	[SRC, { g: { type: "fp", x: 0.5, y: 0.1 } }, "g=fp gx=0.5 gy=0.1"],
	[SRC, { gravity: { type: "we" } }, "g=we"],
	[SRC, { crop: { width: 800, height: 600, gravity: { type: "ce" } } }, "cw=800 ch=600 cg=ce"],
	[SRC, { c: { width: 0.5, height: 0.25 } }, "cw=0.5 ch=0.25 cg=unset"],
	[SRC, { crop: { width: 100, height: 100, gravity: { type: "nowe", x_offset: 3, y_offset: 4 } } },
		"cw=100 ch=100 cg=nowe cgx=3 cgy=4"],
	[SRC, { auto_rotate: false, rotate: 90 }, "ar=0 rot=90"],
	[SRC, { ar: true, rot: 270 }, "ar=1 rot=270"],
	[SRC, { background: "ff8800" }, "bg=ff8800"],
	[SRC, { bg: "abc" }, "bg=aabbcc"],
	[SRC, { background: { r: 1, g: 2, b: 3 } }, "bg=010203"],
	[SRC, { quality: 85, format: "png" }, "q=85 f=png out=png from=option"],
	[SRC, { q: 1, f: "jpg" }, "q=1 f=jpeg out=jpeg"],
	[SRC, { ext: "webp" }, "f=webp out=webp"],
	[SRC, { strip_metadata: false, cachebuster: "v42" }, "sm=0 cb=v42"],
	[SRC, { sm: true, cb: "2024-01-01" }, "sm=1 cb=2024-01-01"],
	[SRC, { expires: 4102444800 }, "exp=4102444800"],
	[SRC, { exp: 1 }, "exp=1"],
	[SRC, { filename: { name: "thumbnail" } }, "fn=thumbnail"],
	[SRC, { fn: { name: b64url("résumé_photo"), encoded: true } }, "fn=résumé_photo"],
	[SRC, { filename: { name: "plain-name", encoded: false } }, "fn=plain-name"],
	[SRC, { return_attachment: true }, "att=1"],
	[SRC, { att: false }, "att=0"],
	[SRC, { preset: ["thumb"] }, "rt=fill w=300 h=300 q=80 pr=1"],
	[SRC, { pr: ["thumb", "sharp"], width: 100 }, "rt=fill w=100 h=300 q=95 pr=2"],
	// sources: plain (with and without extension, escaped) and base64
	[plain(`${SRC}@png`), { width: 100 }, `w=100 src=${SRC} ext=png out=png from=ext plain=1`],
	[plain("local:///photos/cat.jpg"), { height: 20 }, "h=20 src=local:///photos/cat.jpg plain=1 ext="],
	[plain(encodeURIComponent("http://example.com/img@2x.jpg?v=1&s=2") + "@jpg"), { format: "png" },
		"src=http://example.com/img@2x.jpg?v=1&s=2 f=png ext=jpeg out=jpeg from=ext plain=1"],
	[plain("http://example.com/a+b.png@"), {}, "src=http://example.com/a+b.png ext= from=none"],
	[base64("https://cdn.example.org/path/to/a%20b.png?x=1&y=2"), { w: 64 },
		"w=64 src=https://cdn.example.org/path/to/a%20b.png?x=1&y=2 plain=0"],
	[base64("https://example.com/ü/ß.jpg"), { quality: 50 }, "q=50 src=https://example.com/ü/ß.jpg"],
	[base64("http://a.b/c"), {}, "src=http://a.b/c"],
	// many options at once
	[SRC, {
		resize: { resizing_type: "fill", width: 640, height: 480, enlarge: true,
			extend: { extend: true, gravity: { type: "so", x_offset: 1, y_offset: 2 } } },
		dpr: 1.5, gravity: { type: "sowe", x_offset: 7, y_offset: 8 },
		crop: { width: 1000, height: 900 }, auto_rotate: false, rotate: 180,
		background: "00ff00", quality: 90, format: "jpg", strip_metadata: true,
		cachebuster: "x1", expires: 4102444800, filename: { name: "all" },
		return_attachment: true, min_width: 10, min_height: 20, zoom: 1.25,
	}, "rt=fill w=640 h=480 el=1 ex=1 exg=so exx=1 exy=2 dpr=1.5 g=sowe gx=7 gy=8 cw=1000 ch=900" +
		" ar=0 rot=180 bg=00ff00 q=90 f=jpeg sm=1 cb=x1 exp=4102444800 fn=all att=1 mw=10 mh=20 zx=1.25"],
];

const out = [`${key} ${salt}`];
for (const [url, options, expect] of cases) {
	const path = generateImageUrl({ endpoint: "", url, options, key, salt });
	out.push(`${path}\t${expect}`);
}
process.stdout.write(out.join("\n") + "\n");
