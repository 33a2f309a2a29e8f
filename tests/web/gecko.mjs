// Debian's Firefox ESR driven through geckodriver's WebDriver protocol (HTTP and JSON: a few
// calls, so no client library). Playwright drives only its own patched Firefox, which would be a
// download from outside the registries; geckodriver drives the one Debian ships.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { PNG } from 'pngjs';

export const FIREFOX = process.env.FIREFOX ?? '/usr/bin/firefox-esr';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort() {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** A headless Firefox with a fresh profile (geckodriver makes one per session). */
export async function firefox() {
  const port = await freePort();
  const driver = spawn('geckodriver', ['--port', String(port), '--log', 'fatal'], { stdio: 'ignore' });
  // Not on the PATH (`bash tests/run.sh` installs it): fail this test with that, not with an
  // uncaught error that leaves the test file's servers open and the run waiting.
  let spawnError;
  driver.once('error', (error) => { spawnError = error; });
  const base = `http://127.0.0.1:${port}`;
  async function call(method, path, body) {
    const response = await fetch(`${base}${path}`, {
      method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body),
    });
    const { value } = await response.json();
    if (value?.error) throw new Error(`WebDriver ${path}: ${value.error}: ${value.message}`);
    return value;
  }
  let session;
  for (let tries = 0; !session; tries++) {
    if (spawnError) throw new Error(`geckodriver could not start (${spawnError.message}); bash tests/run.sh installs it`);
    try {
      const capabilities = { alwaysMatch: { browserName: 'firefox', 'moz:firefoxOptions': { binary: FIREFOX, args: ['-headless'] } } };
      ({ sessionId: session } = await call('POST', '/session', { capabilities }));
    } catch (error) {
      // geckodriver takes a moment to listen. Given up on, it is stopped: a driver left running
      // would keep the test file's process, and the run, waiting.
      if (tries >= 50 || !/fetch failed|ECONNREFUSED/.test(`${error.message} ${error.cause?.code}`)) {
        driver.kill();
        throw error;
      }
      await sleep(200);
    }
  }
  const at = (path) => `/session/${session}${path}`;
  const run = (script, ...args) => call('POST', at('/execute/sync'), { script, args });
  return {
    goto: (url) => call('POST', at('/url'), { url }),
    /** `script` is a function body; its return value comes back. */
    run,
    /** `script` is a function body that calls `done(value)`. */
    runAsync: (script, ...args) =>
      call('POST', at('/execute/async'), { script: `const done = arguments[arguments.length - 1]; ${script}`, args }),
    /** Polls `script` until it returns something truthy, and returns that. */
    async until(script, what, seconds = 300) {
      for (const end = Date.now() + seconds * 1000; Date.now() < end; await sleep(100)) {
        const value = await run(script);
        if (value) return value;
      }
      throw new Error(`Firefox: timed out waiting for ${what}`);
    },
    /** Gives the file at `path` to the `<input type=file>` that matches `selector`, as a user does. */
    async pickFile(selector, path) {
      const element = Object.values(await call('POST', at('/element'), { using: 'css selector', value: selector }))[0];
      await call('POST', at(`/element/${element}/value`), { text: path });
    },
    /** Waits for the page to be ready; its engine and how many threads it runs on (null where the
     *  page does not say: the peer's). */
    async ready() {
      const engine = await this.until(`return document.querySelector('[data-testid="status"]')?.dataset.state === 'ready'
        && document.querySelector('[data-testid="engine"]').textContent.trim();`, 'the engine');
      const threads = await run(`const threads = document.querySelector('[data-testid="threads"]');
        return threads ? Number(threads.dataset.threads) : null;`);
      return { engine, threads };
    },
    /** Picks the photo at `path` and waits until the page's `count`-th item is done or failed;
     *  its state. */
    async cutOut(path, count = 1) {
      await this.pickFile('[data-testid="file-input"]', path);
      return this.until(`const item = document.querySelectorAll('[data-testid="item"]')[${count - 1}];
        return ['done', 'error'].includes(item?.dataset.state) && item.dataset.state;`, `cutout ${count}`);
    },
    /** The bytes behind the `count`-th item's result: the PNG a user downloads. */
    async resultPng(count = 1) {
      const base64 = await this.runAsync(`
        fetch(document.querySelectorAll('[data-testid="result"]')[${count - 1}].src).then((r) => r.arrayBuffer()).then((bytes) => {
          let text = ''; for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte); done(btoa(text)); });`);
      return PNG.sync.read(Buffer.from(base64, 'base64'));
    },
    async close() {
      await call('DELETE', at('')).catch(() => {});
      driver.kill();
    },
  };
}
