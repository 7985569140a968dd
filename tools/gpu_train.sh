#!/usr/bin/env bash
# One GPU call that trains a model within the GPU machine's limits: the data travels as WebP
# (tools/pack_faces.py), results come back as <= 15 MiB files.
#
#   python tools/pack_faces.py ../shared/UTKFace .gpu/utkface128_webp.tar.gz    # here, once
#   OUT=/tmp/gpu_out bash tools/gpu_train.sh                                    # there (PLAN=plus for the plus model)
#   cat $OUT/weights.tgz.part-* | tar -xz -C RUN; tar -xzf $OUT/pictures.tgz -C RUN   # here; then ship_model.py
#
# The shipped models' E.dat and G.dat (144 MB) would not travel within the call's 64 MiB: for the call, take them
# out of the index (`git rm --cached`) and list them in .git/info/exclude; `git reset -- <them>` afterwards.
# The packed faces keep their names with .webp added: strip it from run.json's validation list before eval.
#
# PLAN=reference (what trained trained_models/utkface_z50): the reference recipe from scratch, EPOCHS epochs or
# TRAIN_SECONDS. PLAN=plus: the reference recipe from scratch for REF_SECONDS, then the plus recipe from its
# newest epoch (--init) at PLUS_LR for PLUS_SECONDS, then continued exactly (--load) at FINE_LR for FINE_SECONDS,
# in epochs of PLUS_EPOCH_SIZE faces, both plus stages with PLUS_ARGS (e.g. "--plus-weight way_back=10"). A stage
# that runs out of time is stopped as Ctrl+C would be and keeps its last complete epoch. Then the newest complete
# epoch's E and G are packed as fp16 with the losses and the validation grids, and bench.py runs on the GPU if the
# time allows (the whole script stays under TOTAL_SECONDS).
set -u
OUT=${OUT:-/tmp/gpu_out}
DATA=${DATA:-.gpu/utkface128_webp.tar.gz}
WORK=${WORK:-/tmp/caae}
PLAN=${PLAN:-reference}
EPOCHS=${EPOCHS:-50}
TRAIN_SECONDS=${TRAIN_SECONDS:-430}
REF_SECONDS=${REF_SECONDS:-140}
PLUS_SECONDS=${PLUS_SECONDS:-200}
FINE_SECONDS=${FINE_SECONDS:-90}
PLUS_LR=${PLUS_LR:-1e-4}
FINE_LR=${FINE_LR:-3e-5}
PLUS_EPOCH_SIZE=${PLUS_EPOCH_SIZE:-8192}
BATCH=${BATCH:-128}
TOTAL_SECONDS=${TOTAL_SECONDS:-550}
PY=${PY:-python3}
export PYTHONUNBUFFERED=1

stage() {  # stage NAME SECONDS ARGS...: one main.py training run, stopped with SIGINT after SECONDS
    local name=$1 seconds=$2
    shift 2
    echo "== $name: $seconds s: $*" >> "$OUT/train.log"
    timeout -s INT -k 30 "$seconds" $PY main.py --mode train --ms tail --bs "$BATCH" -i "$WORK/faces" "$@" \
        >> "$OUT/train.log" 2>&1
    echo "$name exited with $? at $SECONDS s" | tee -a "$OUT/device.txt"
}

newest_epoch() {  # the newest complete epoch of a run (losses written) with its networks and training state
    $PY -c "import sys, checkpoints, consts
files = [n + '.dat' for n in consts.NETWORK_NAMES] + [consts.TRAINING_STATE, 'losses.json']
print(checkpoints.latest_epoch_with(sys.argv[1], files) or '')" "$1"
}

mkdir -p "$OUT" "$WORK/faces"
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  $PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"; } 2>&1 | tee "$OUT/device.txt"
tar -xzf "$DATA" -C "$WORK/faces" || exit 1

if [[ $PLAN == plus ]]; then
    stage reference "$REF_SECONDS" -e "$EPOCHS" -o "$WORK/reference"
    base=$(newest_epoch "$WORK/reference")
    [[ -n $base ]] || { echo "the reference stage saved no epoch" | tee -a "$OUT/device.txt"; exit 1; }
    read -ra extra <<< "${PLUS_ARGS:-}"
    plus=(--recipe plus --epoch-size "$PLUS_EPOCH_SIZE" -e "$EPOCHS" -o "$WORK/run" "${extra[@]}")
    stage plus "$PLUS_SECONDS" "${plus[@]}" --init "$base" --lr "$PLUS_LR"
    last=$(newest_epoch "$WORK/run")
    [[ -n $last ]] && stage fine "$FINE_SECONDS" "${plus[@]}" --load "$last" --lr "$FINE_LR"
else
    stage reference "$TRAIN_SECONDS" -e "$EPOCHS" -o "$WORK/run"
fi

run=$WORK/run
[[ -n $(newest_epoch "$run") ]] || run=$WORK/reference  # the plus stages saved nothing: the reference's epoch
last=$($PY tools/pack_run.py "$run" "$WORK/weights" "$WORK/pictures" 2>&1 | tee -a "$OUT/device.txt" | tail -1)
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
