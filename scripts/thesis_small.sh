#!/usr/bin/env bash
# The RGB-D thesis's 18 models (six recipes × three λ) at the small size (configs/thesis-small/), each at the thesis's
# three λ (its Tables 2–7), then its Tables 8–13 on held-out frames (benchmarks/thesis_tables.py).
#
#   bash scripts/thesis_small.sh                # train (or resume) every run to its end, export, measure
#   MINUTES=8 bash scripts/thesis_small.sh      # at most 8 minutes of training per run and call: call
#                                               # it again to resume; it measures once all are done
#   RUNS=/tmp/smoke MODELS=/tmp/smoke OUTPUT=/tmp/smoke/tables TRAIN_ARGS="--steps 1 --threads 1" FRAMES=2 \
#     bash scripts/thesis_small.sh              # a smoke run (kept out of models/ and docs/)
#   LANE=depth bash scripts/thesis_small.sh &  LANE=rgb bash scripts/thesis_small.sh &
#                                               # the depth-target and the RGB-target runs side by side
#                                               # (one core each); a call without LANE then measures
#
# Runs go to $RUNS/thesis-small-<recipe>-<λ> (RUNS=runs, not kept by git); each run, once finished, is
# exported (z's prior fitted to 256 training crops after training: mmcodec/train/prior_fit.py) with a
# card of its training record to $MODELS/weights and $MODELS/cards (MODELS=models/thesis-small, kept
# by git: a run exported there is not trained again, in this checkout or a fresh one); results to
# docs/results/thesis-tables.md (or $OUTPUT). The Convolutional MM-LIC-TCM of each λ starts from
# the depth baseline of the same λ (its exported weights, else its finished run's; frozen), so it
# waits until that baseline has finished; the Attention MM-LIC-TCM's λ map holds the normalised λ
# of its run (0.0025 → 0, 0.013 → 0.55, 0.05 → 1).
# HARDWARE names the machine in the cards (default: this CPU's model name).
#
#   FINETUNE_STEPS=1000 LANE=depth bash scripts/thesis_small.sh &   (and LANE=rgb)
#     trains each recipe from scratch at one λ only (depth 0.005, RGB 0.013) and its other two λ for
#     1,000 steps from that run's exported weights (lr ×0.1 for the last 13%): a third of the CPU time
#     of 18 full runs. A fine-tuned run waits until its source is exported; its card names the source.
#   FROM_BASELINES=200 LANE=depth bash scripts/thesis_small.sh &   (and LANE=rgb)
#     trains each fusion recipe at each λ for 200 steps from the exported baseline of its target at
#     the same λ (lr ×0.1 for the last 13%): the early-fusion models start as that baseline exactly
#     (mmcodec/codecs/warm_start.py), the Convolutional MM-LIC-TCM too (its SPF modules start as the
#     identity), the Attention MM-LIC-TCM from its weights with new prompt networks. The thesis trains
#     them from scratch; this is the CPU's way to train all 12. A run waits until its baseline is exported.
#   RECIPES="depth-baseline rgb-baseline" ...   only these recipes (of depth-baseline, tcm-4c-depth,
#     mm-tcm-conv, rgb-baseline, tcm-4c-rgb, mm-tcm-attention)
# A run being trained by another call (another lane) is passed over: each run holds a lock while it trains.
# A run whose model was trained before on 128² crops (kept in $MODELS/crop128/weights: those crops
# taught the models to code crops, not frames) starts from that model and trains FINETUNE_STEPS
# (default 1,000) on the recipe's 256² crops.
set -euo pipefail
cd "$(dirname "$0")/.."
MMCODEC=${MMCODEC:-.venv/bin/mmcodec}
PYTHON=${PYTHON:-.venv/bin/python}
RUNS=${RUNS:-runs}
MODELS=${MODELS:-models/thesis-small}
EXPORTS=$MODELS/weights
HARDWARE=${HARDWARE:-"CPU ($(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | xargs || uname -m))"}
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
exported_before() {   # run folder: absent here, but its weights were exported (and kept) by an earlier checkout?
  [ ! -e "$1" ] && [ -f "$EXPORTS/$(basename "$1").safetensors" ]
}
export_finished() {   # run folder: export it once trained to its end (again if trained on since)
  local name weights
  name=$(basename "$1")
  weights="$EXPORTS/$name.safetensors"
  finished "$1" || return 0
  [ -f "$weights" ] && [ "$weights" -nt "$1/checkpoint.safetensors" ] && return 0
  "$MMCODEC" export "$1" --model-id "$name" --quality 1 --output "$EXPORTS" --fit-prior 256 \
    --hardware "$HARDWARE" --measured-in "docs/results/thesis-tables.md (scripts/thesis_small.sh)"
}
wanted() {   # recipe: to be trained by this call (RECIPES)?
  [ -z "${RECIPES:-}" ] || [[ " $RECIPES " == *" $1 "* ]]
}
SOURCE_LAMBDAS="0.005 0.013"   # with FINETUNE_STEPS, the λ each recipe trains at from scratch (depth, RGB)
train() {   # recipe λ [more train arguments]
  local recipe=$1 lmbda=$2 run="$RUNS/thesis-small-$1-$2" source steps base
  shift 2
  wanted "$recipe" || return 0
  runs+=("$run")
  if exported_before "$run"; then echo "$(basename "$run"): trained and exported before"; return 0; fi
  source="$MODELS/crop128/weights/$(basename "$run").safetensors"   # trained before on 128² crops?
  if [ ! -f "$source" ]; then
    source=""
    if [ -n "${FINETUNE_STEPS:-}" ] && [[ " $SOURCE_LAMBDAS " != *" $lmbda "* ]]; then   # (again on resuming)
      for candidate in $SOURCE_LAMBDAS; do
        [ -f "$EXPORTS/thesis-small-$recipe-$candidate.safetensors" ] && source="$EXPORTS/thesis-small-$recipe-$candidate.safetensors"
      done
      if [ -z "$source" ]; then echo "$(basename "$run") waits for its source λ to be exported"; return 0; fi
    fi
  fi
  if [ -z "$source" ] && [ -n "${FROM_BASELINES:-}" ] && [[ $recipe != *-baseline ]]; then
    case "$recipe" in tcm-4c-depth|mm-tcm-conv) base=depth-baseline ;; *) base=rgb-baseline ;; esac
    base="$EXPORTS/thesis-small-$base-$lmbda.safetensors"
    if [ ! -f "$base" ]; then echo "$(basename "$run") waits for $(basename "$base")"; return 0; fi
    [ "$recipe" = mm-tcm-conv ] || set -- "$@" --init-from "$base"   # (conv: its depth_baseline is that model)
    set -- "$@" --steps "$FROM_BASELINES" --milestones "$((FROM_BASELINES * 87 / 100))"
  fi
  if [ -n "$source" ]; then   # continue from it (on the recipe's crops), or fine-tune from the source λ
    steps=${FINETUNE_STEPS:-1000}
    set -- "$@" --init-from "$source" --steps "$steps" --milestones "$((steps * 87 / 100))"
  fi
  mkdir -p "$RUNS"
  exec 9> "$RUNS/.$(basename "$run").lock"   # held (by this call and its training) until closed below
  if ! flock --nonblock 9; then
    echo "$(basename "$run") is being trained by another call"; exec 9>&-; return 0
  fi
  "$MMCODEC" train --config "configs/thesis-small/$recipe.yaml" --lmbda "$lmbda" --run-dir "$run" "${EXTRA[@]}" "$@"
  export_finished "$run"
  exec 9>&-
}
LANE=${LANE:-}
case "$LANE" in ""|depth|rgb) ;; *) echo "LANE must be depth or rgb, not '$LANE'" >&2; exit 2 ;; esac
for lmbda in 0.005 0.001 0.0001; do   # each recipe's source λ (FINETUNE_STEPS) first
  [ "$LANE" = rgb ] && break
  train depth-baseline "$lmbda"
  train tcm-4c-depth "$lmbda"
  baseline="$RUNS/thesis-small-depth-baseline-$lmbda"
  if [ -f "$EXPORTS/$(basename "$baseline").safetensors" ]; then   # its depth path: the baseline, frozen
    train mm-tcm-conv "$lmbda" --set "depth_baseline=$EXPORTS/$(basename "$baseline").safetensors"
  elif finished "$baseline"; then
    train mm-tcm-conv "$lmbda" --set "depth_baseline=$baseline/checkpoint.safetensors"
  elif wanted mm-tcm-conv; then
    echo "mm-tcm-conv $lmbda waits for its depth baseline to finish"; runs+=("$RUNS/thesis-small-mm-tcm-conv-$lmbda")
  fi
done
for lmbda in 0.013 0.0025 0.05; do
  [ "$LANE" = depth ] && break
  train rgb-baseline "$lmbda"
  train tcm-4c-rgb "$lmbda"
  train mm-tcm-attention "$lmbda" --set "model_config.prompt_lambda=${PROMPT[$lmbda]}"
done

unfinished=()
for run in "${runs[@]}"; do finished "$run" || exported_before "$run" || unfinished+=("$run"); done
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
