# tests/openai-lib.sh — helpers of the tests of bt-mock's OpenAI side
# (tests/mock-openai*.t), sourced after lib.sh.

KEY=sk-test-key
MODELS="--model gpt-4.1-mini --model text-embedding-3-small"

# oapi METHOD PATH [curl options]: call the OpenAI side with the key
oapi() {
	_m=$1 _p=$2
	shift 2
	tcurl -sS -X "$_m" -H "Authorization: Bearer $KEY" "$@" "$MOCK_URL/v1$_p"
}

# ocall STATUS FILE METHOD PATH [curl options]: the answer has STATUS;
# its body is added to FILE as one line
ocall() {
	_want=$1 _file=$2
	shift 2
	_got=$(oapi "$@" -o .body -w "%{http_code}") || return 1
	if [ "$_got" != "$_want" ]; then
		echo "$*: HTTP $_got, wanted $_want:"
		cat .body; echo
		return 1
	fi
	cat .body >>"$_file" && echo >>"$_file"
}

ocheck() { # SCHEMA FILE...: every line valid by OpenAI's SCHEMA
	schema_check --spec "$TESTS/api/openai-openapi-subset.json" "$@"
}

# upload FILE: its id on stdout (the OpenAIFile into files.jsonl)
upload() {
	ocall 200 files.jsonl POST /files -F "file=@$1" -F purpose=batch >/dev/null &&
	tail -n 1 files.jsonl | jq -r .id
}

# create FILE [ENDPOINT]: upload FILE, create its batch (into
# batches.jsonl), the batch's id on stdout
create() {
	_f=$(upload "$1") &&
	ocall 200 batches.jsonl POST /batches -H "Content-Type: application/json" \
		-d "{\"input_file_id\":\"$_f\",\"endpoint\":\"${2:-/v1/chat/completions}\",\"completion_window\":\"24h\"}" &&
	tail -n 1 batches.jsonl | jq -r .id
}

status_is() { # ID STATUS (read with sed: wait_for polls it)
	[ "$({ oapi GET "/batches/$1" && echo; } | sed -n 's/.*"status":"\([a-z_]*\)".*/\1/p')" = "$2" ]
}

line() { # custom_id text [more body members, with a leading comma]
	printf '{"custom_id":"%s","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4.1-mini","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"%s"}]%s}}\n' "$1" "$2" "${3:-}"
}
schema='{"type":"object","properties":{"kind":{"type":"string","enum":["bug","question"]},"score":{"type":"integer","minimum":1,"maximum":5},"summary":{"type":"string"}},"required":["kind","score","summary"],"additionalProperties":false}'
fmt=",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"t\",\"strict\":true,\"schema\":$schema}}"
tool=",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"label\",\"parameters\":$schema}}],\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"label\"}}"

# valid SCHEMA-FILE ANSWERS: each line of ANSWERS (JSON text) is valid by it
valid() {
	/usr/bin/python3 -c '
import json, sys, jsonschema
s = json.load(open(sys.argv[1]))
for l in open(sys.argv[2]):
    jsonschema.validate(json.loads(json.loads(l)), s)
' "$@"
}
