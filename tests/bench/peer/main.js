// Runs each picked file through removeBackground() in turn and marks its item done with the PNG,
// like our page's items. ?device=cpu|gpu picks the library's device. ?preload=1 calls the
// library's preload() as the page opens, which fetches the model and creates the inference
// session, so a photo picked later waits for its inference only (as ours loads its model at once).
import { preload, removeBackground } from '@imgly/background-removal';
import * as ort from 'onnxruntime-web';
import * as ortWebgpu from 'onnxruntime-web/webgpu';

const params = new URLSearchParams(location.search);
const device = params.get('device') ?? 'cpu';
const config = {
  publicPath: new URL('data/', location.href).href,   // model and wasm from this server, not the CDN
  model: 'isnet_fp16',                                 // the "medium" model: fp16 ISNet, as we ship
  device,
  output: { format: 'image/png' },
};
const status = document.querySelector('[data-testid="status"]');
const list = document.querySelector('[data-testid="items"]');
document.querySelector('[data-testid="engine"]').textContent = device;

// The queue waits for the preload, which removeBackground() would wait for anyway (the library
// creates one session per configuration); a failed preload leaves removeBackground() to say why.
let queue = params.get('preload') === '1' ? preload(config).catch(() => {}) : Promise.resolve();
document.querySelector('[data-testid="file-input"]').addEventListener('change', (event) => {
  for (const file of event.target.files) {
    const item = document.createElement('li');
    item.dataset.testid = 'item';
    item.dataset.name = file.name;
    item.dataset.state = 'queued';
    list.append(item);
    queue = queue.then(() => run(file, item));
  }
  event.target.value = '';
});

async function run(file, item) {
  item.dataset.state = status.dataset.state = 'processing';
  try {
    const png = await removeBackground(file, config);
    const img = document.createElement('img');
    img.dataset.testid = 'result';
    img.src = URL.createObjectURL(png);
    item.append(img);
    item.dataset.state = status.dataset.state = 'done';
  } catch (error) {
    const message = document.createElement('p');
    message.dataset.testid = 'error';
    message.textContent = String(error?.stack ?? error);
    item.append(message);
    item.dataset.state = status.dataset.state = 'error';
  }
}

// What the benchmark reports: whether onnxruntime-web could use threads, and how many it set.
window.peerInfo = () => {
  const env = (device === 'gpu' ? ortWebgpu : ort).env;
  return { crossOriginIsolated, numThreads: env.wasm.numThreads, hardwareConcurrency: navigator.hardwareConcurrency };
};
