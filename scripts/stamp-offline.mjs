// Trunk post-build hook (Trunk.toml), run in the staging directory's parent with
// TRUNK_STAGING_DIR set. It makes the build work offline and locks it to its own origin:
//  1. sw.js: stamps the build hash and the list of app-shell files to precache. The model weights
//     are left out: the page keeps them in their own cache (see sw.js).
//  2. index.html: adds a Content-Security-Policy that allows only this origin, with the hash of
//     Trunk's inline loader script (the only inline script) so that one may run.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const staging = process.env.TRUNK_STAGING_DIR;
if (!staging) throw new Error('TRUNK_STAGING_DIR is not set: run this as a Trunk post_build hook');

const sha = (bytes, encoding = 'hex') => createHash('sha256').update(bytes).digest(encoding);

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

// --- Content-Security-Policy ---------------------------------------------------------------
const indexPath = join(staging, 'index.html');
let index = readFileSync(indexPath, 'utf8');
const inlineScripts = [...index.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
const scriptHashes = inlineScripts.map((body) => `'sha256-${sha(body, 'base64')}'`).join(' ');
const policy = [
  "default-src 'self'",
  // wasm-unsafe-eval lets WebAssembly compile; nothing else may evaluate code.
  `script-src 'self' 'wasm-unsafe-eval' ${scriptHashes}`,
  "worker-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  // blob: is the page's own results and originals; data: the favicon.
  "img-src 'self' blob: data:",
  "connect-src 'self' blob:",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
].join('; ');
if (!index.includes('http-equiv="Content-Security-Policy"')) {
  index = index.replace('<head>', `<head>\n    <meta http-equiv="Content-Security-Policy" content="${policy}" />`);
  writeFileSync(indexPath, index);
}

// --- Service worker ------------------------------------------------------------------------
const worker = join(staging, 'sw.js');
const isShell = (path) => !path.endsWith('.safetensors') && !path.endsWith('sw.js') && !path.includes('.trunk');
const shell = files(staging)
  .filter(isShell)
  .map((path) => '/' + relative(staging, path).split(sep).join('/'))
  .sort();
const build = sha(shell.map((path) => `${path} ${sha(readFileSync(join(staging, path)))}`).join('\n')).slice(0, 16);
const source = readFileSync(worker, 'utf8')
  .replace("'__BGONE_BUILD__'", JSON.stringify(build))
  .replace('__BGONE_SHELL__', JSON.stringify(shell));
writeFileSync(worker, source);
console.log(`bgone: offline shell ${build}: ${shell.length} files; CSP with ${inlineScripts.length} inline script hash(es)`);
