"""Reference masks from onnxruntime, for bgone's parity tests.

For every photo in tests/fixtures/photos this runs the fp32 ISNet ONNX (models/setup.sh makes it
from the package's fp16 file by upcasting; it computes what our f32 engines compute) and stores:
  input       [1, 3, S, S]  the normalised network input (S = the manifest's input size)
  mask        [S, S]        the network's mask for that input
  photo_mask  [H, W]        the mask resized back to the photo's own size
in <cache>/reference/<photo stem>.safetensors. Preprocessing follows the manifest: RGB, bilinear
resize to S x S, (value - mean) / std; the mask goes back to the photo's size bilinearly.

Rerun with: bash tests/reference/generate.sh   (skips photos whose reference is newer)
"""

import argparse
import json
import pathlib

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageOps
from safetensors.numpy import save_file


def network_input(photo: Image.Image, size: int, mean: list[float], std: list[float]) -> np.ndarray:
    rgb = np.asarray(photo.resize((size, size), Image.Resampling.BILINEAR), dtype=np.float32)
    normalised = (rgb - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return normalised.transpose(2, 0, 1)[None].copy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--onnx", type=pathlib.Path, required=True)
    parser.add_argument("--manifest", type=pathlib.Path, required=True)
    parser.add_argument("--photos", type=pathlib.Path, required=True)
    parser.add_argument("--out", type=pathlib.Path, required=True)
    args = parser.parse_args()

    manifest = json.loads(args.manifest.read_text())
    size = manifest["input_size"]
    mean, std = manifest["normalization"]["mean"], manifest["normalization"]["std"]
    args.out.mkdir(parents=True, exist_ok=True)
    session = None
    photos = [p for p in sorted(args.photos.iterdir()) if p.suffix.lower() in {".png", ".jpg", ".jpeg", ".webp"}]
    for photo_path in photos:
        target = args.out / f"{photo_path.stem}.safetensors"
        if target.exists() and target.stat().st_mtime > max(photo_path.stat().st_mtime, args.onnx.stat().st_mtime):
            continue
        if session is None:
            session = ort.InferenceSession(str(args.onnx), providers=["CPUExecutionProvider"])
        photo = ImageOps.exif_transpose(Image.open(photo_path)).convert("RGB")
        x = network_input(photo, size, mean, std)
        mask = session.run(["output"], {"input": x})[0][0, 0]
        photo_mask = np.asarray(
            Image.fromarray(mask, mode="F").resize(photo.size, Image.Resampling.BILINEAR), dtype=np.float32
        )
        save_file({"input": x, "mask": mask, "photo_mask": photo_mask}, str(target))
        print(f"reference: {photo_path.name} {photo.size[0]}x{photo.size[1]} -> {target}")


if __name__ == "__main__":
    main()
