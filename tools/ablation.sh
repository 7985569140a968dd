#!/usr/bin/env bash
# The plus recipe's ablation (trained_models/utkface_z50_plus/MODEL.md): fine-tune the same model on the same faces
# with the full recipe and with each term off in turn, evaluate each on the same held-out faces, print the table.
#
#   OMP_NUM_THREADS=1 bash tools/ablation.sh /work/runs/ablation        # 6 runs of 32 steps: about 75 min on 1 core
#
# Each variant is a folder of OUT with its training log, its last epoch and eval.json; a variant whose eval.json is
# there already is skipped, so the script continues where a killed one stopped.
set -euo pipefail
OUT=${1:?usage: tools/ablation.sh OUT}
INPUT=${INPUT:-../shared/UTKFace}
INIT=${INIT:-trained_models/utkface_z50}
EPOCH_SIZE=${EPOCH_SIZE:-1024}
ESTIMATORS=${ESTIMATORS:-trained_models/age_estimators}
VARIANTS=${VARIANTS:-full adversarial=0 age=0 latent_cycle=0 way_back=0 colour=0}
BATCH=${BATCH:-32}
PY=${PY:-python}
mkdir -p "$OUT"

for variant in $VARIANTS; do
  name=${variant%=*}
  [ -f "$OUT/$name/eval/eval.json" ] && continue
  weight=()
  [ "$variant" != full ] && weight=(--weight "$variant")
  rm -rf "$OUT/$name"
  $PY main.py --mode train --recipe plus --init "$INIT" -i "$INPUT" -o "$OUT/$name" -e 1 --epoch-size "$EPOCH_SIZE" \
      --bs "$BATCH" --ms tail --age-classifier "$ESTIMATORS" "${weight[@]}" > "$OUT/$name.log" 2>&1
  $PY main.py --mode eval --load "$OUT/$name/epoch1" -i "$INPUT" --estimators "$ESTIMATORS" -o "$OUT/$name/eval" \
      >> "$OUT/$name.log" 2>&1
done
$PY tools/ablation_table.py "$OUT" $VARIANTS
