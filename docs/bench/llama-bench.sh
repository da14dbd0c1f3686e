#!/usr/bin/env bash
# Runs llama.cpp's llama-bench, building it first when it is missing, so that specd's figures can be
# compared with llama.cpp's on the same machine in the same minute (docs/BENCHMARKS.md). llama.cpp
# is not a dependency of specd and no build of it ships on these machines: its source comes from
# the npm registry, which carries it as a git bundle inside the node-llama-cpp package (the
# llama.cpp release that package names v0.5.0, commit de3ff81), built here for this CPU with gcc and
# cmake (about six minutes on two cores).
#
#   docs/bench/llama-bench.sh -m FILE.gguf -t 2 -p 0 -n 32 -r 5      # tg32: plain decoding
#   docs/bench/llama-bench.sh -m FILE.gguf -t 2 -p 4,8,16 -n 0       # pp4...: batches of tokens
#
# SPECD_LLAMA_DIR: where the source and build go (default ~/.cache/specd/llama.cpp).
set -euo pipefail
dir="${SPECD_LLAMA_DIR:-$HOME/.cache/specd/llama.cpp}"
bench="$dir/build/bin/llama-bench"
package="node-llama-cpp@3.22.1"

if [[ ! -x "$bench" ]]; then
  echo "llama-bench.sh: building llama-bench in $dir (source from npm's $package)..." >&2
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' EXIT
  (cd "$scratch" && npm pack --silent "$package" > /dev/null \
    && tar xzf node-llama-cpp-*.tgz package/llama/gitRelease.bundle)
  rm -rf "$dir"
  mkdir -p "$(dirname "$dir")"
  git -c advice.detachedHead=false clone -q "$scratch/package/llama/gitRelease.bundle" "$dir"
  rm -rf "$scratch" # exec below skips the EXIT trap
  trap - EXIT
  cmake -S "$dir" -B "$dir/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
    -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF > "$dir/build.log" 2>&1 \
    && cmake --build "$dir/build" --target llama-bench -j "$(nproc)" >> "$dir/build.log" 2>&1 \
    || { echo "llama-bench.sh: the build failed; see $dir/build.log" >&2; exit 1; }
fi
exec "$bench" "$@"
