import { serve, browser, dist } from '../web/harness.mjs';
const server = await serve(dist);
for (const webgpu of [false, true]) {
  const { context, close } = await browser({ webgpu });
  const page = await context.newPage();
  await page.goto(`${server.url}/?engine=cpu`);
  const pageSide = await page.evaluate(async () => ({ coi: self.crossOriginIsolated, gpu: !!navigator.gpu, adapter: !!(await navigator.gpu?.requestAdapter()) }));
  const sw = context.serviceWorkers()[0] ?? await context.waitForEvent('serviceworker', { timeout: 60000 });
  const swSide = await sw.evaluate(async () => {
    const r = { coi: self.crossOriginIsolated, gpu: !!navigator.gpu, sab: typeof SharedArrayBuffer };
    try { const a = await navigator.gpu?.requestAdapter(); r.adapter = !!a; r.fallback = a?.info?.isFallbackAdapter ?? a?.isFallbackAdapter; } catch (e) { r.error = String(e); }
    return r;
  });
  console.log(`webgpu flags ${webgpu}: page ${JSON.stringify(pageSide)} sw ${JSON.stringify(swSide)}`);
  await close();
}
await server.close();
