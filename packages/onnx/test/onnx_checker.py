"""Runs the official ONNX checker (with full shape inference) over every .onnx file in a folder.

Usage: TESSERA_ONNX_DUMP=/tmp/onnx-dump pnpm --filter @tessera/onnx exec vitest run
       python3 test/onnx_checker.py /tmp/onnx-dump        (needs `pip install onnx`)
"""
import pathlib
import sys

import onnx

files = sorted(pathlib.Path(sys.argv[1]).glob("*.onnx"))
failed = 0
for f in files:
    try:
        onnx.checker.check_model(onnx.load(str(f)), full_check=True)
    except Exception as e:  # noqa: BLE001 - report every failure, then exit non-zero
        failed += 1
        print(f"FAIL {f.name}: {e}")
print(f"{len(files) - failed}/{len(files)} files pass onnx.checker (full_check) with onnx {onnx.__version__}")
sys.exit(1 if failed or not files else 0)
