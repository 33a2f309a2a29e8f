// The bad-input corpus (tests/corpus/generate.py) dropped on the page in one go: every file gets
// its cutout, upright and at its size, or a message that names it and says what is wrong; the
// others complete. Expectations come from the corpus's expected.json, shared with the CLI test.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { serve, browser, ready, resultPng } from './harness.mjs';

const corpus = join(process.env.BGONE_CACHE ?? join(homedir(), '.cache', 'bgone'), 'corpus');
const expected = JSON.parse(readFileSync(join(corpus, 'expected.json'), 'utf8'));
const server = await serve();
after(() => server.close());

test('every corpus file gets a correct cutout or a clear message, in one batch', async () => {
  const { context, close } = await browser();
  try {
    const page = await context.newPage();
    // The network at 64x64 keeps this quick; what is tested is decoding and composing.
    await page.goto(`${server.url}/?engine=cpu&size=64`);
    await ready(page);
    await page.locator('[data-testid="file-input"]').setInputFiles(expected.map((c) => join(corpus, c.name)));
    for (const c of expected) {
      const item = page.locator(`[data-testid="item"][data-name="${c.name}"]`);
      if (c.error) {
        await item.and(page.locator('[data-state="error"]')).waitFor();
        const message = await item.locator('[data-testid="error"]').textContent();
        assert.ok(message.includes(c.name) && message.includes(c.error), `${c.name}: "${message}" should say "${c.error}"`);
        continue;
      }
      const png = await resultPng(page, c.name);
      assert.deepEqual([png.width, png.height], c.result, `${c.name}: wrong size (not turned upright?)`);
      // A fully transparent pixel keeps no colour (0, 0, 0, 0); every other keeps the photo's,
      // and at least one checked pixel per file must show it.
      let visible = 0;
      for (const [x, y, rgb] of c.pixels) {
        const i = (y * png.width + x) * 4;
        const got = [...png.data.subarray(i, i + 4)];
        if (got[3] === 0) {
          assert.deepEqual(got, [0, 0, 0, 0], `${c.name}: pixel (${x},${y}) is fully transparent but keeps a colour`);
          continue;
        }
        visible += 1;
        assert.ok(rgb.every((v, k) => Math.abs(got[k] - v) <= 48), `${c.name}: pixel (${x},${y}) is ${got}, expected about ${rgb}`);
      }
      assert.ok(visible > 0, `${c.name}: every checked pixel is fully transparent, so its colours went unchecked`);
    }
    await page.locator('[data-testid="status"][data-state="done"]').waitFor();
  } finally {
    await close();
  }
});
