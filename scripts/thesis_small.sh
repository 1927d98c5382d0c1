#!/usr/bin/env bash
# The RGB-D thesis's 18 models (six recipes × three λ) at the small size (configs/thesis-small/), each at the thesis's
# three λ (its Tables 2–7), then its Tables 8–13 on held-out frames (benchmarks/thesis_tables.py).
#
#   bash scripts/thesis_small.sh                # train (or resume) every run to its end, export, measure
#   MINUTES=8 bash scripts/thesis_small.sh      # at most 8 minutes of training per run and call: call
#                                               # it again to resume; it measures once all are done
#   TRAIN_ARGS="--steps 1 --threads 1" FRAMES=2 bash scripts/thesis_small.sh   # a smoke run
#   LANE=depth bash scripts/thesis_small.sh &  LANE=rgb bash scripts/thesis_small.sh &
#                                               # the depth-target and the RGB-target runs side by side
#                                               # (one core each); a call without LANE then measures
#
# Runs go to $RUNS/thesis-small-<recipe>-<λ> (RUNS=runs); each run, once finished, is exported (z's prior
# fitted to 256 training crops after training: mmcodec/train/prior_fit.py) to $RUNS/exports/thesis-small/
# (again only if it has trained on since); results to
# docs/results/thesis-tables.md (or $OUTPUT). The Convolutional MM-LIC-TCM of each λ starts from
# the depth baseline of the same λ (frozen), so it waits until that baseline has finished; the
# Attention MM-LIC-TCM's λ map holds the normalised λ of its run (0.0025 → 0, 0.013 → 0.55, 0.05 → 1).
set -euo pipefail
cd "$(dirname "$0")/.."
MMCODEC=${MMCODEC:-.venv/bin/mmcodec}
PYTHON=${PYTHON:-.venv/bin/python}
RUNS=${RUNS:-runs}
EXPORTS=$RUNS/exports/thesis-small
read -r -a EXTRA <<< "${TRAIN_ARGS:-}"
[ -n "${MINUTES:-}" ] && EXTRA+=(--max-minutes "$MINUTES")

declare -A PROMPT=([0.0025]=0 [0.013]=0.55 [0.05]=1)
runs=()
finished() {   # run folder: trained to its last step?
  "$PYTHON" - "$1" <<'EOF'
import json, sys
from pathlib import Path
run = Path(sys.argv[1])
try:
    done = json.loads((run / "checkpoint.json").read_text())["step"] >= json.loads((run / "config.json").read_text())["steps"]
except (OSError, ValueError, KeyError):
    done = False
sys.exit(0 if done else 1)
EOF
}
export_finished() {   # run folder: export it once trained to its end (again if trained on since)
  local name weights
  name=$(basename "$1")
  weights="$EXPORTS/$name.safetensors"
  finished "$1" || return 0
  [ -f "$weights" ] && [ "$weights" -nt "$1/checkpoint.safetensors" ] && return 0
  "$MMCODEC" export "$1" --model-id "$name" --quality 1 --output "$EXPORTS" --fit-prior 256
}
train() {   # recipe λ [more train arguments]
  local recipe=$1 lmbda=$2 run="$RUNS/thesis-small-$1-$2"
  shift 2
  "$MMCODEC" train --config "configs/thesis-small/$recipe.yaml" --lmbda "$lmbda" --run-dir "$run" "${EXTRA[@]}" "$@"
  export_finished "$run"
  runs+=("$run")
}
LANE=${LANE:-}
case "$LANE" in ""|depth|rgb) ;; *) echo "LANE must be depth or rgb, not '$LANE'" >&2; exit 2 ;; esac
for lmbda in 0.0001 0.001 0.005; do
  [ "$LANE" = rgb ] && break
  train depth-baseline "$lmbda"
  train tcm-4c-depth "$lmbda"
  baseline="$RUNS/thesis-small-depth-baseline-$lmbda"
  if finished "$baseline"; then   # its depth path is the finished baseline, frozen
    train mm-tcm-conv "$lmbda" --set "depth_baseline=$baseline/checkpoint.safetensors"
  else
    echo "mm-tcm-conv $lmbda waits for its depth baseline to finish"; runs+=("$RUNS/thesis-small-mm-tcm-conv-$lmbda")
  fi
done
for lmbda in 0.0025 0.013 0.05; do
  [ "$LANE" = depth ] && break
  train rgb-baseline "$lmbda"
  train tcm-4c-rgb "$lmbda"
  train mm-tcm-attention "$lmbda" --set "model_config.prompt_lambda=${PROMPT[$lmbda]}"
done

unfinished=()
for run in "${runs[@]}"; do finished "$run" || unfinished+=("$run"); done
if [ ${#unfinished[@]} -gt 0 ]; then
  echo "not finished yet (call again to resume):"; printf '%s\n' "${unfinished[@]}"; exit 0
fi
if [ -n "$LANE" ]; then
  echo "the $LANE lane is finished; a call without LANE measures once both are"; exit 0
fi
weights=()
for run in "${runs[@]}"; do
  export_finished "$run"
  weights+=("$EXPORTS/$(basename "$run").safetensors")
done
"$PYTHON" benchmarks/thesis_tables.py "${weights[@]}" ${FRAMES:+--frames "$FRAMES"} ${OUTPUT:+--output "$OUTPUT"}
