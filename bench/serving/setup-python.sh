#!/usr/bin/env bash
# Installs the Python servers the serving benchmark compares against, one virtual environment each under
# .cache/bench-serving/ (they pin different FastAPI and pydantic versions). Not part of `make test`.
# Run: bash bench/serving/setup-python.sh      (PYTHON=/path/to/python3 to choose the interpreter)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=.cache/bench-serving
python=${PYTHON:-/usr/bin/python3}

venv() { # name requirement...: (re)creates the environment when its requirements changed
  local name=$1; shift
  local dir=$root/$name
  if [[ -f $dir/.requirements && $(cat "$dir/.requirements") == "$*" ]]; then return; fi
  echo "bench/serving: installing $name ($*)"
  rm -rf "$dir"
  "$python" -m venv "$dir"
  "$dir/bin/pip" install --quiet "$@"
  echo "$*" >"$dir/.requirements"
}

venv fastapi 'fastapi' 'uvicorn[standard]' 'onnxruntime' 'numpy'
venv kserve 'kserve==0.21.0' 'onnxruntime' 'numpy'
venv mlserver 'mlserver==1.7.1' 'onnxruntime' 'numpy'
