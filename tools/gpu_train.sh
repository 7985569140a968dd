#!/usr/bin/env bash
# The one GPU run that trained the shipped model (trained_models/utkface_z50/MODEL.md), within the GPU
# machine's limits: the data travels as WebP (tools/pack_faces.py), results come back as <= 15 MiB files.
#
#   python tools/pack_faces.py ../shared/UTKFace .gpu/utkface128_webp.tar.gz    # here, once
#   OUT=/tmp/gpu_out bash tools/gpu_train.sh                                    # there
#   cat $OUT/weights.tgz.part-* | tar -xz -C RUN; tar -xzf $OUT/pictures.tgz -C RUN   # here; then ship_model.py
#
# Trains EPOCHS epochs (stopped after TRAIN_SECONDS, keeping the last saved epoch), packs the last epoch's
# E and G as fp16, its losses and the validation grids that ship_model.py animates, then runs bench.py on
# the GPU if the time allows (the whole script stays under TOTAL_SECONDS).
set -u
OUT=${OUT:-/tmp/gpu_out}
DATA=${DATA:-.gpu/utkface128_webp.tar.gz}
WORK=${WORK:-/tmp/caae}
EPOCHS=${EPOCHS:-50}
TRAIN_SECONDS=${TRAIN_SECONDS:-430}
TOTAL_SECONDS=${TOTAL_SECONDS:-550}
PY=${PY:-python3}
export PYTHONUNBUFFERED=1

mkdir -p "$OUT" "$WORK/faces"
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  $PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"; } 2>&1 | tee "$OUT/device.txt"
tar -xzf "$DATA" -C "$WORK/faces" || exit 1

timeout "$TRAIN_SECONDS" $PY main.py --mode train -e "$EPOCHS" --ms tail -i "$WORK/faces" -o "$WORK/run" \
    > "$OUT/train.log" 2>&1
echo "training exited with $? after $SECONDS s" | tee -a "$OUT/device.txt"

last=$($PY tools/pack_run.py "$WORK/run" "$WORK/weights" "$WORK/pictures" 2>&1 | tee -a "$OUT/device.txt" | tail -1)
tar -czf - -C "$WORK/weights" . | split -b 15M - "$OUT/weights.tgz.part-"
tar -czf "$WORK/pictures.tgz" -C "$WORK/pictures" .
room=$(( (62 << 20) - $(cat "$OUT"/weights.tgz.part-* | wc -c) ))
if (( $(stat -c %s "$WORK/pictures.tgz") > room )); then
    echo "the grids of all epochs would not come back: only $last's" | tee -a "$OUT/device.txt"
    tar -czf "$WORK/pictures.tgz" -C "$WORK/pictures" log.txt session_arguments.txt run.json "$last"
fi
cp "$WORK/pictures.tgz" "$OUT/"
ls -l "$OUT" | tee -a "$OUT/device.txt"

if (( SECONDS < TOTAL_SECONDS - 90 )); then
    timeout $((TOTAL_SECONDS - SECONDS)) $PY bench.py --device cuda --batch-size 128 --precision auto fp32 \
        > "$OUT/bench.txt" 2>&1
fi
echo "done after $SECONDS s" | tee -a "$OUT/device.txt"
