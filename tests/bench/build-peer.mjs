// Builds the peer page into build/peer: the esbuild bundle of peer/main.js, and data/ with the
// model and onnxruntime-web wasm files plus the resources.json that library 1.7.0 reads.
//
// Why a generated resources.json: 1.7.0 fetches `${publicPath}resources.json` and looks up keys
// `/models/isnet_fp16` and `/onnxruntime-web/ort-wasm-simd-threaded{,.jsep}.{wasm,mjs}`, each
// `{ chunks: [{ name, offsets: [start, end] }], size, mime }`, fetching `name` relative to
// publicPath. The newest data package on npm (1.4.5) keys the models `/models/small|medium`, names
// chunks by `hash`, and ships wasm of an older onnxruntime-web; the library's own is empty.
import { build } from 'esbuild';
import { cpSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'build', 'peer');
const modules = join(here, 'node_modules');
const dataPackage = join(modules, '@imgly', 'background-removal-data', 'dist');
const ortDist = join(modules, 'onnxruntime-web', 'dist');

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'data'), { recursive: true });
await build({
  entryPoints: [join(here, 'peer', 'main.js')],
  outfile: join(out, 'main.js'),
  bundle: true, format: 'esm', platform: 'browser', target: 'es2022', logLevel: 'warning',
});
cpSync(join(here, 'peer', 'index.html'), join(out, 'index.html'));
// Links, not copies: 100+ MB of model and wasm need not be duplicated.
symlinkSync(dataPackage, join(out, 'data', 'imgly'));
symlinkSync(ortDist, join(out, 'data', 'ort'));

const old = JSON.parse(readFileSync(join(dataPackage, 'resources.json'), 'utf8'));
const model = (key) => ({
  ...old[key],
  mime: 'application/octet-stream',   // 1.4.5 spells it "octet-steam"
  chunks: old[key].chunks.map(({ hash, offsets }) => ({ name: `imgly/${hash}`, offsets })),
});
const whole = (file, mime) => {
  const size = statSync(join(ortDist, file)).size;
  return { chunks: [{ name: `ort/${file}`, offsets: [0, size] }], size, mime };
};
const resources = {
  '/models/isnet_fp16': model('/models/medium'),
  '/models/isnet_quint8': model('/models/small'),
};
for (const base of ['ort-wasm-simd-threaded', 'ort-wasm-simd-threaded.jsep']) {
  resources[`/onnxruntime-web/${base}.wasm`] = whole(`${base}.wasm`, 'application/wasm');
  resources[`/onnxruntime-web/${base}.mjs`] = whole(`${base}.mjs`, 'text/javascript');
}
writeFileSync(join(out, 'data', 'resources.json'), JSON.stringify(resources, null, 1));
console.log(`peer page built in ${out}`);
