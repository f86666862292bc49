#!/bin/sh
# mkmodel.sh DIR [WEIGHT_BYTES [HEADER_PAD [DATA_FILE]]]
#
# Writes a small but real-looking model repository into DIR: a model card
# with YAML front matter, config.json, tokenizer files, a LICENSE and a
# safetensors file of WEIGHT_BYTES tensor bytes (default 3 MiB).  The
# safetensors header is padded with HEADER_PAD spaces (default 0), so a
# second call with a larger pad and the same DATA_FILE makes "the same
# weights, header grown", which shifts every tensor byte.  Without
# DATA_FILE the tensor bytes are random.
set -eu
dir=$1
bytes=${2:-3145728}
pad=${3:-0}
data=${4:-}

mkdir -p "$dir"
cat >"$dir/README.md" <<'CARD'
---
license: apache-2.0
library_name: transformers
pipeline_tag: text-generation
base_model: airlock-demo/tiny-base
base_model_relation: finetune
datasets:
  - airlock-demo/tiny-corpus
tags:
  - demo
  - airlock
---
# tiny-demo

A generated model for trying airlock: its weights are random bytes.
CARD
printf '{"architectures":["LlamaForCausalLM"],"hidden_size":64,"num_hidden_layers":2,"vocab_size":256}\n' >"$dir/config.json"
printf '{"bos_token_id":1,"eos_token_id":2}\n' >"$dir/generation_config.json"
printf '{"version":"1.0","model":{"type":"BPE","vocab":{"a":0,"b":1}}}\n' >"$dir/tokenizer.json"
printf '{"model_max_length":2048}\n' >"$dir/tokenizer_config.json"
printf 'Apache License\nVersion 2.0, January 2004\n' >"$dir/LICENSE"

# safetensors: u64 little-endian header length, JSON header, tensor bytes.
header=$(printf '{"weight":{"dtype":"U8","shape":[%s],"data_offsets":[0,%s]}}' \
    "$bytes" "$bytes")
header=$(printf '%s%*s' "$header" "$pad" "")
len=${#header}
le=""
n=$len
for _ in 1 2 3 4 5 6 7 8; do
	le="$le$(printf '\\%03o' $((n % 256)))"
	n=$((n / 256))
done
{
	printf "$le"
	printf '%s' "$header"
	if [ -n "$data" ]; then
		head -c "$bytes" "$data"
	else
		head -c "$bytes" /dev/urandom
	fi
} >"$dir/model.safetensors"
