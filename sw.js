// bgone's service worker: the app shell from Cache Storage, so the app starts with the network off.
//
// The build stamps this file (scripts/stamp-offline.mjs, a Trunk post-build hook): BUILD is a hash
// of every shell file and SHELL lists them. Each build therefore gets its own shell cache, a new
// build is a new service worker, and one version's files are never served beside another's.
//
// The model weights are not part of the shell: the page's worker keeps them in their own cache
// (`bgone-model-*`), so an app update never downloads the 88 MB again. This worker lets those
// requests through untouched.
//
// Privacy: it counts every request it lets through to the network, and tells the page on request,
// so the page can show how many requests left while an image was processed (it must be 0).

const BUILD = '__BGONE_BUILD__';
const SHELL = __BGONE_SHELL__;
const SHELL_CACHE = `bgone-shell-${BUILD}`;
const SHELL_PREFIX = 'bgone-shell-';

let networkRequests = 0;

/** The threaded CPU worker comes in two builds (scripts/build-cpu-worker.sh): one with relaxed
 *  SIMD's fused multiply-add, one without it for browsers that lack it. This browser runs one of
 *  them, picked by the page with the same test (src/browser/worker_client.rs): whether its
 *  WebAssembly validates a module whose one function is an `f32x4.relaxed_madd`. Only that one
 *  is precached; the other would be 6-7 MB downloaded and kept for nothing. */
const RELAXED_SIMD = WebAssembly.validate(new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7b, 3, 2, 1, 0, 10, 61, 1, 59, 0,
  ...[0, 1, 2].flatMap(() => [0xfd, 0x0c, ...new Array(16).fill(0)]), 0xfd, 0x85, 0x02, 0x0b,
]));
const PORTABLE_WORKER = '/bgone-cpu-worker-portable';
const RELAXED_WORKER = '/bgone-cpu-worker';
/** The main worker: the WebGPU engine, and the CPU engine on one thread (28.8 MB of WebAssembly,
 *  4.9 MB gzip-compressed). */
const MAIN_WORKER = '/bgone-worker';

/** Whether a page of this browser can start the main worker. A page runs it where it cannot share
 *  memory (not cross-origin isolated) or where the browser offers a WebGPU adapter, a software
 *  one included (WebGPU can be chosen in the menu there). Every page this worker serves carries
 *  the isolation headers, so it is isolated wherever the browser supports isolation, which a
 *  browser shows by having `crossOriginIsolated` at all (this worker's own value says nothing:
 *  Firefox keeps it false in service workers). Anywhere else the page runs the threaded CPU worker
 *  whatever the user picks (src/browser/worker_client.rs, `choose`), and precaching the main
 *  worker would download it for nothing: in Firefox ESR, or Chromium on Linux without WebGPU.
 *  Asked once, at install; the answer is kept with the files (`PRECACHED`). */
async function mainWorkerRuns() {
  if (!('crossOriginIsolated' in self)) return true;
  // An answer that does not come (a GPU process that hangs) must not hold the install up: after
  // ADAPTER_WAIT_MS the main worker is precached, as where the answer is an error.
  let timer;
  const late = new Promise((resolve) => { timer = setTimeout(() => resolve(true), ADAPTER_WAIT_MS); });
  const asked = (async () => Boolean(await self.navigator?.gpu?.requestAdapter()))().catch(() => true);
  try {
    return await Promise.race([asked, late]);
  } finally {
    clearTimeout(timer);
  }
}
const ADAPTER_WAIT_MS = 5000;

/** The shell files this browser needs: all but the threaded CPU worker's build it does not run,
 *  and the main worker where it cannot start, unless a page here needed it before (`keptBefore`). */
async function precacheList() {
  const main = (await keptBefore()) || (await mainWorkerRuns());
  return SHELL.filter((path) => {
    if (path.startsWith(PORTABLE_WORKER)) return !RELAXED_SIMD;
    if (path.startsWith(RELAXED_WORKER)) return RELAXED_SIMD;
    if (path.startsWith(MAIN_WORKER)) return main;
    return true;
  });
}

/** The shell cache's record of the files its install stored, so the status can check them
 *  without asking for a GPU adapter at every start. Not a file of the app. */
const PRECACHED = '/.bgone-precached.json';

const record = (paths) => new Response(JSON.stringify(paths), { headers: { 'Content-Type': 'application/json' } });
/** The paths `cache`'s record lists, or null where it has none (a version before the record). */
const recorded = async (cache) => (await (await cache.match(PRECACHED))?.json()) ?? null;
const mainWorkerFiles = () => SHELL.filter((path) => path.startsWith(MAIN_WORKER));

/** Fetches `path` past the HTTP cache (`no-cache` revalidates with the server, so it cannot slip
 *  in an older file) and stores it with the isolation headers already on it (see `isolated`), so
 *  the fetch handler can hand the stored response back untouched. */
async function store(cache, path) {
  const response = await fetch(new Request(path, { cache: 'no-cache' }));
  if (!response.ok) throw new Error(`bgone: ${path} answered ${response.status}`);
  await cache.put(path, isolated(response));
}

/** A page whose threaded CPU worker cannot start here (a browser that refuses its shared memory,
 *  say) runs the main worker on one thread instead, which the install left out where the browser
 *  has no WebGPU adapter: offline, that page would have no engine at all. Such a page asks for it
 *  (`keep-main-worker`). It goes into the record first, so that until its files are in, and if
 *  they cannot be fetched, the status counts them missing rather than calling the app ready. */
async function keepMainWorker() {
  const cache = await caches.open(SHELL_CACHE);
  const precache = (await recorded(cache)) ?? SHELL;
  const main = mainWorkerFiles();
  const unlisted = main.filter((path) => !precache.includes(path));
  if (unlisted.length) await cache.put(PRECACHED, record([...precache, ...unlisted]));
  const absent = (await Promise.all(main.map(async (path) => ((await cache.match(path)) ? null : path)))).filter(Boolean);
  await Promise.all(absent.map((path) => store(cache, path)));
}

/** Whether an earlier version's record lists the main worker: a page here needed it then (or
 *  the browser could start it), so the new version keeps it from the start. */
async function keptBefore() {
  const earlier = (await caches.keys()).filter((name) => name.startsWith(SHELL_PREFIX) && name !== SHELL_CACHE);
  for (const name of earlier) {
    if ((await recorded(await caches.open(name)))?.some((path) => path.startsWith(MAIN_WORKER))) return true;
  }
  return false;
}

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL_CACHE);
      const precache = await precacheList();
      await Promise.all(precache.map((path) => store(cache, path)));
      await cache.put(PRECACHED, record(precache));
    })(),
  );
  // No skipWaiting here: a new version waits until the page says the user chose to reload.
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(names.filter((n) => n.startsWith(SHELL_PREFIX) && n !== SHELL_CACHE).map((n) => caches.delete(n)));
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('message', (event) => {
  const reply = (message) => event.ports[0]?.postMessage(message);
  switch (event.data?.type) {
    case 'skip-waiting':
      self.skipWaiting();
      break;
    case 'status':
      event.waitUntil(shellStatus().then(reply));
      break;
    case 'keep-main-worker':
      // Its status after: complete once the main worker is in, its files missing if they could
      // not be fetched (offline, say).
      event.waitUntil(keepMainWorker()
        .catch((error) => console.warn(`bgone: the main worker could not be kept for offline use: ${error.message}`))
        .then(shellStatus)
        .then(reply));
      break;
    case 'network-requests':
      reply({ count: networkRequests });
      break;
  }
});

/** Whether every shell file this browser needs, as its install decided (its record; every shell
 *  file without one), is in this version's cache. */
async function shellStatus() {
  const cache = await caches.open(SHELL_CACHE);
  const precache = (await recorded(cache)) ?? SHELL;
  const cached = await Promise.all(precache.map((path) => cache.match(path)));
  const missing = cached.filter((response) => !response).length;
  return { build: BUILD, cache: SHELL_CACHE, files: precache.length, missing, complete: missing === 0 };
}

/** The page must be cross-origin isolated for the threaded CPU worker (shared memory), and
 *  offline nothing but this worker can say so: every same-origin response gets COOP and COEP.
 *  Shell files get them once, when they are cached: Chromium keeps compiled WebAssembly (its code
 *  cache) beside a Cache Storage entry only when the worker answers with that entry itself, and
 *  uses none for a `new Response` made here, so each visit would compile the app's WebAssembly
 *  again (tests/web/code-cache.test.mjs). */
function isolated(response) {
  if (!response || response.type === 'opaque' || response.type === 'error') return response;
  const headers = new Headers(response.headers);
  headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

function toNetwork(request) {
  networkRequests += 1;
  return fetch(request);
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) {
    event.respondWith(toNetwork(request));
    return;
  }
  // Navigations (any query string: ?engine=cpu&size=256) get this version's page.
  const path = request.mode === 'navigate' ? '/index.html' : url.pathname;
  event.respondWith(
    (async () => {
      const cache = await caches.open(SHELL_CACHE);
      const hit = (await cache.match(path)) ?? (path === '/index.html' ? await cache.match('/') : undefined);
      return hit ?? isolated(await toNetwork(request));
    })(),
  );
});
