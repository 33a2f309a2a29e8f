import { serve, browser, ready, resultPng, photos } from './web/harness.mjs';
import { join } from 'node:path';
const server = await serve();
const { context, close } = await browser();
async function visit(label) {
  const page = await context.newPage();
  page.on('worker', (w) => w.on('console', (m) => m.text().includes('bgone worker') && console.log(label, m.text())));
  const t0 = Date.now();
  await page.goto(`${server.url}/?engine=cpu`);
  await ready(page);
  const t1 = Date.now();
  await page.locator('[data-testid="file-input"]').setInputFiles(join(photos, 'chelsea.png'));
  await resultPng(page, 'chelsea.png');
  const t2 = Date.now();
  console.log(`${label}: ready ${t1 - t0} ms, first cutout ${t2 - t1} ms, total ${t2 - t0} ms`);
  if (label !== 'return') {
    await page.locator('[data-testid="file-input"]').setInputFiles({ name: 'again.png', mimeType: 'image/png', buffer: (await import('node:fs')).readFileSync(join(photos, 'chelsea.png')) });
    const t3 = Date.now(); await resultPng(page, 'again.png'); console.log(`${label}: warm cutout ${Date.now() - t3} ms`);
  }
  await page.close();
}
await visit('first');
await visit('return');
await close(); await server.close();
