"""The onnxruntime side of `bgone-bench`: times one 1024x1024 ISNet pass (fp16 file as shipped,
and its fp32 upcast) and the whole pipeline on a photo with PIL + onnxruntime. Prints JSON."""

import json
import sys
import time

import numpy as np
import onnxruntime as ort
from PIL import Image


def median_ms(run, repeats):
    run()  # warm-up: first-run allocations and kernel selection
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times))


def main():
    fp16_path, fp32_path, photo_path, repeats = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    x = np.random.default_rng(0).standard_normal((1, 3, 1024, 1024)).astype(np.float32) * 0.3
    result = {"onnxruntime": ort.__version__}
    for name, path in [("fp16", fp16_path), ("fp32", fp32_path)]:
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        result[f"pass_{name}_ms"] = median_ms(lambda: session.run(["output"], {"input": x}), repeats)

    session = ort.InferenceSession(fp32_path, providers=["CPUExecutionProvider"])

    def pipeline():
        photo = Image.open(photo_path).convert("RGB")
        small = np.asarray(photo.resize((1024, 1024), Image.Resampling.BILINEAR), np.float32)
        mask = session.run(["output"], {"input": ((small - 128) / 256).transpose(2, 0, 1)[None]})[0][0, 0]
        alpha = Image.fromarray((mask * 255).round().astype(np.uint8)).resize(photo.size, Image.Resampling.BILINEAR)
        photo.putalpha(alpha)
        photo.save("/dev/null", format="PNG")

    result["pipeline_ms"] = median_ms(pipeline, max(1, repeats // 2))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
