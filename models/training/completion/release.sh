#!/usr/bin/env bash
# Ship the CPU run's model when it beats the shipped one on the valid packages.
#
#   bash models/training/completion/release.sh [DECAY_ITERS] [LINES]     (defaults 200 and 1000)
#
# 1. branches a decayed copy off the run's checkpoint (train.py --decay_iters: the main run is untouched);
# 2. exports it (fp32, int8, parity.json) as a candidate model folder outside the repository;
# 3. measures the shipped model and the candidate through Kestrel's engine on the same lines of the
#    valid packages (kestrel eval-completion, left context and with the suffix, project cache off);
# 4. if the candidate wins on exact match and edit similarity (left context), copies it over
#    models/kestrel-py-tiny, writes kestrel.json and the card (with the history row) and the fp16 graph.
# Environment: KESTREL_TRAINING (default ~/.cache/kestrel-training) holds work/, runs/, valid-files/.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
DECAY_ITERS="${1:-200}"
LINES="${2:-1000}"
ROOT="${KESTREL_TRAINING:-$HOME/.cache/kestrel-training}"
export KESTREL_WORK="${KESTREL_WORK:-$ROOT/work}"
RUN="$ROOT/runs/tiny"
VALID="$ROOT/valid-files"
CANDIDATES="$ROOT/candidates"
CAND="$CANDIDATES/kestrel-py-tiny-candidate"
SHIPPED="$REPO/models/kestrel-py-tiny"
PY=/usr/bin/python3
cd "$HERE"

[ -f "$RUN/ckpt.pt" ] || { echo "no checkpoint at $RUN/ckpt.pt: start the run first (README)"; exit 2; }
[ -d "$VALID" ] || { echo "no valid files at $VALID (README: corpus)"; exit 2; }
rm -rf "$RUN-decay" "$CAND"
mkdir -p "$CAND"
echo "== decayed copy: $DECAY_ITERS iterations"
$PY train.py config/tiny_cpu.py --decay_iters="$DECAY_ITERS" --nice=0
echo "== export"
$PY export.py --ckpt "$RUN-decay/ckpt.pt" --out "$CAND" --tokenizer "$SHIPPED/tokenizer.json"
cp "$SHIPPED/tokenizer.json" "$CAND/"
$PY make_card.py --run "$RUN-decay" --out "$CAND" --id kestrel-py-tiny-candidate --display-name "candidate"
echo "== line completion on the valid packages ($LINES lines)"
(cd "$REPO" && node esbuild.mjs --log-level=warning)
evaluate() {  # model-id extra-folder out-prefix
  for context in left suffix; do
    flag=(); [ "$context" = suffix ] && flag=(--with-suffix)
    node "$REPO/dist/cli.js" eval-completion --files "$VALID" --n "$LINES" --seed 0 --no-cache "${flag[@]}" \
      --model "$1" --models "$2" --out "$3-$context.json" | tail -1
  done
}
# the shipped model's figures are kept per graph digest and line count: measured once, reused
shipped_key="$CANDIDATES/eval/shipped-$(sha256sum "$SHIPPED/model.int8.onnx" | cut -c1-16)-$LINES"
mkdir -p "$CANDIDATES/eval"
[ -f "$shipped_key-left.json" ] && [ -f "$shipped_key-suffix.json" ] || evaluate kestrel-py-tiny "$CANDIDATES" "$shipped_key"
cp "$shipped_key-left.json" "$CAND/eval-shipped-left.json"
cp "$shipped_key-suffix.json" "$CAND/eval-shipped-suffix.json"
evaluate kestrel-py-tiny-candidate "$CANDIDATES" "$CAND/eval-candidate"
better=$($PY - "$CAND" <<'PY'
import json, sys
d = sys.argv[1]
s, c = (json.load(open(f'{d}/eval-{w}-left.json')) for w in ('shipped', 'candidate'))
print('yes' if c['exactMatch'] >= s['exactMatch'] and c['editSimilarity'] > s['editSimilarity'] else 'no')
print(f"shipped EM {s['exactMatch']} ES {s['editSimilarity']}; candidate EM {c['exactMatch']} ES {c['editSimilarity']}", file=sys.stderr)
PY
)
if [ "$better" != yes ]; then
  echo "the candidate does not beat the shipped model: nothing shipped (candidate kept in $CAND)"
  exit 1
fi
echo "== shipping into $SHIPPED"
cp "$CAND/model.onnx" "$CAND/model.int8.onnx" "$CAND/parity.json" "$SHIPPED/"
rm -f "$SHIPPED/model.fp16.onnx"
$PY make_card.py --run "$RUN-decay" --out "$SHIPPED" --id kestrel-py-tiny \
  --display-name "Kestrel Python tiny (CPU-trained)" \
  --eval-left "$CAND/eval-candidate-left.json" --eval-suffix "$CAND/eval-candidate-suffix.json"
$PY ../common/fp16.py "$SHIPPED"
echo "shipped: run the parity tests (npm run test:unit), retune the project cache (npm run eval:project-cache -- --record) and commit models/kestrel-py-tiny"
