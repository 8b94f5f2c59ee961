# ops api: the segment API on API Gateway (stack outputs ApiUrl and ApiKeyId).
# Sourced by scripts/ops after lib.sh.
# shellcheck shell=bash

ops_group api "Find and try the segment API (stack outputs ApiUrl and ApiKeyId)."
ops_command api url "Print the API's URL, and the API key id with the command that reads the key's value."
ops_command api test "POST sample customers to /segment with the API key and print the segments as a table."
ops_option "api test" --customers FILE \
  "JSON file with the request body to send, e.g. {\"customers\":[{\"age\":34,\"income\":72000,\"purchases\":12}]}."

# Three customers in raw units, as an application sends them (architecture contract 6).
API_SAMPLE_CUSTOMERS='{"customers":[{"age":34,"income":72000,"purchases":12},'
API_SAMPLE_CUSTOMERS+='{"age":23,"income":28000,"purchases":45},{"age":61,"income":125000,"purchases":6}]}'
API_TIMEOUT_SECONDS=30

# The request's rows next to the answer's predictions, one line each, fields split by the unit separator: number,
# the inputs (age, income, purchases; or the scaled features of a legacy request), segment, distance (3 decimals),
# label.
# shellcheck disable=SC2016 # a jq program: its $names are jq's
API_TABLE_JQ='
  ($request | if type == "object" and has("customers") then .customers
              elif type == "object" and has("features") then [.features[] | {features: (map(tostring) | join(","))}]
              else [.] end) as $inputs
  | .predictions | to_entries[]
  | (($inputs[.key] // {}) | with_entries(.key |= ascii_downcase)) as $in
  | [(.key + 1), $in.age, $in.income, $in.purchases, $in.features, .value.closest_cluster,
     (.value.distance_to_cluster | if type == "number" then (. * 1000 | round) / 1000 else . end),
     .value.segment_label]
  | map(if . == null then "" else tostring end) | join("\u001f")'

API_URL=""
API_KEY_ID=""

# The stack has ApiKeyId only with api:authorization apiKey (the default); with iam, callers sign their requests.
api_resolve() {
  stack_output API_URL ApiUrl
  stack_output_if_any API_KEY_ID ApiKeyId
}

api_iam_note() {
  printf "the API of stack '%s' uses IAM authorization (api:authorization iam; the stack has no ApiKeyId output):" \
    "$OPS_STACK"
  printf ' requests carry a SigV4 signature for the service execute-api, such as curl --aws-sigv4'
  printf ' aws:amz:REGION:execute-api makes, instead of an API key'
}

# The AWS CLI call that prints the API key's value.
api_key_call() {
  quote_command aws apigateway get-api-key --api-key "$API_KEY_ID" --include-value --query value --output text
}

help_api_url() {
  cat <<'EOF'
Prints only the URL on standard output (API_URL=$(scripts/ops api url) works); the API key id and the command
that prints the key's value go to standard error. Requests to POST /segment send the key as the x-api-key header.
EOF
}

cmd_api_url() {
  api_resolve
  printf '%s\n' "$API_URL"
  if [[ -z $API_KEY_ID ]]; then
    say "$(api_iam_note)."
    return
  fi
  say "API key id: $API_KEY_ID. Requests send its value as the x-api-key header; print the value with:"
  say "  $(api_key_call)"
}

help_api_test() {
  cat <<'EOF'
Reads the API key's value (apigateway get-api-key), then POSTs the request body to <ApiUrl>/segment with curl:
three sample customers, or the JSON object in --customers FILE (any body POST /segment takes: {"customers":
[...]}, one customer object, or the legacy {"features": [[...], ...]} of scaled values). The key reaches curl on
its standard input, never in its arguments. Prints one line per customer: its input, segment id, distance to the
segment's centre and the segment's label, then the model version and endpoint that answered. An answer other
than 200 ends the command with the API's error message and the field it names. Needs curl and jq.
EOF
}

# One table row, columns padded to their width (the legacy form has five columns, the customers form seven), without
# trailing blanks when the last column (the label) is empty.
api_row() {
  local row
  if (($# == 5)); then
    printf -v row '  %-3s %-28s %-8s %-9s %s' "$@"
  else
    printf -v row '  %-3s %-5s %-10s %-10s %-8s %-9s %s' "$@"
  fi
  printf '%s\n' "${row%"${row##*[! ]}"}"
}

api_require() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' is not installed; api test needs it (scripts/setup.sh installs it," \
    "or install the package '$1')"
}

cmd_api_test() {
  local file body
  option_value file --customers
  if option_given --customers; then
    [[ -f $file && -r $file ]] || usage_error "--customers: cannot read the file '$file'"
    body=$(<"$file")
  else
    body=$API_SAMPLE_CUSTOMERS
  fi
  api_require jq
  api_require curl
  # Slurped, so that an empty file or several JSON values fail too (jq -e alone passes empty input).
  jq -s -e 'length == 1 and (.[0] | type == "object")' <<<"$body" >/dev/null 2>&1 ||
    usage_error "--customers: '$file' does not hold a JSON object (POST /segment takes" \
      '{"customers":[{"age":34,"income":72000,"purchases":12}, ...]})'
  api_resolve
  [[ -n $API_KEY_ID ]] || die "$(api_iam_note); api test sends an API key, so it cannot call it."
  aws_read apigateway get-api-key --api-key "$API_KEY_ID" --include-value --query value --output text
  local key=$OPS_OUT endpoint="${API_URL%/}/segment"
  local request=(curl --silent --show-error --max-time "$API_TIMEOUT_SECONDS" --request POST
    --header 'Content-Type: application/json' --header @- --data-binary "$body" "$endpoint")
  if dry_run; then
    printf '+ %s\n' "$(quote_command "${request[@]}")"
    printf '# curl reads the header "x-api-key: <value of API key %s>" from its standard input\n' "$API_KEY_ID"
    return
  fi

  local output error code answer
  temp_file error
  say "POST $endpoint"
  output=$(printf 'x-api-key: %s\n' "$key" | "${request[@]}" --write-out '\n%{http_code}' 2>"$error") ||
    die "POST $endpoint failed: $(<"$error")"
  code=${output##*$'\n'}
  answer=${output%$'\n'*}
  if [[ $code != 200 ]]; then
    local message field
    message=$(jq -r '.error // .message // empty' <<<"$answer" 2>/dev/null) || message=""
    field=$(jq -r '.field // empty' <<<"$answer" 2>/dev/null) || field=""
    [[ -n $message ]] || message=${answer:-no body}
    [[ $code != 403 ]] || message+=" (is the API key right? '$OPS_PROG api url' shows how to read it)"
    die "POST $endpoint answered HTTP $code: $message${field:+ (field $field)}"
  fi
  local rows
  rows=$(jq -r --argjson request "$body" "$API_TABLE_JQ" <<<"$answer" 2>/dev/null) ||
    die "POST $endpoint answered 200 but not with predictions: $answer"
  local legacy=0 number age income purchases features segment distance label
  jq -e 'has("features")' <<<"$body" >/dev/null && legacy=1
  if ((legacy)); then
    api_row "#" features segment distance label
  else
    api_row "#" age income purchases segment distance label
  fi
  # The unit separator, not a tab: read collapses runs of whitespace separators, which would lose empty fields.
  while IFS=$'\x1f' read -r number age income purchases features segment distance label; do
    [[ -n $number ]] || continue
    if ((legacy)); then
      api_row "$number" "$features" "$segment" "$distance" "$label"
    else
      api_row "$number" "$age" "$income" "$purchases" "$segment" "$distance" "$label"
    fi
  done <<<"$rows"
  jq -r '"\n\(.features_processed // (.predictions | length)) customers, model version \(.model_version // "unknown")" +
    " on endpoint \(.endpoint // "unknown")"' <<<"$answer"
}
