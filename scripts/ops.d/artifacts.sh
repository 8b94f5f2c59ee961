# ops artifacts: the model artifacts of a pipeline run, under its never-overwritten prefix runs/<execution id>/ of
# the model bucket (stack output ModelBucketName), and the marker of the model version being served.
# Sourced by scripts/ops after lib.sh and pipeline.sh (whose pipeline_latest_execution it uses).
# shellcheck shell=bash

ops_group artifacts \
  "Show the model artifacts of a pipeline run and the deployed version (stack output ModelBucketName)."
ops_command artifacts show \
  "Show the latest run's model artifacts with their sizes, and deployed/version.json."
ops_default_command artifacts show
ops_option "artifacts show" --execution ARN "The run to show (default: the latest execution of the pipeline)."

# The model artifacts among what the pipeline writes under runs/<execution id>/ (TrainingPipelineDefinition.cs).
ARTIFACT_KINDS=(model spec metrics profiles)

artifact_kind() {
  case $1 in
    training/*/output/model.tar.gz) printf model ;;
    artifacts/preprocessing_spec.json) printf spec ;;
    artifacts/metrics.json) printf metrics ;;
    artifacts/segment_profiles.json) printf profiles ;;
  esac
}

DEPLOYED_MARKER="deployed/version.json"

# Bytes in the unit that keeps the number below 1024, with one decimal (binary units, as S3's console shows them).
human_size() {
  local bytes=$1 units=(B KiB MiB GiB TiB) unit=0 scaled
  scaled=$((bytes * 10))
  while ((scaled >= 10240 && unit < 4)); do
    scaled=$(((scaled + 512) / 1024))
    unit=$((unit + 1))
  done
  if ((unit == 0)); then
    printf '%d B' "$bytes"
  else
    printf '%d.%d %s' $((scaled / 10)) $((scaled % 10)) "${units[unit]}"
  fi
}

help_artifacts_show() {
  cat <<'EOF'
`scripts/ops artifacts` alone runs this. Prints the run ("execution:" with its status, "prefix:"), then the model
artifacts by kind with their sizes: model (model.tar.gz, what the endpoint serves), spec (the preprocessing
spec the API uses to scale input), metrics and profiles (segment centroids, sizes, labels); a kind the run has
not written (it failed or is still running) shows "not written". Every other object under the prefix follows.
Last comes deployed/version.json, the marker of the model version the endpoint serves, or "nothing deployed yet".
EOF
}

cmd_artifacts_show() {
  pipeline_execution_option
  [[ -n $EXECUTION ]] || pipeline_latest_execution
  local bucket id prefix
  stack_output bucket ModelBucketName
  id=$(execution_id "$EXECUTION")
  [[ $EXECUTION != "<"* ]] || id="<execution id from list-pipeline-executions>"
  prefix="runs/$id/"
  aws_read s3api list-objects-v2 --bucket "$bucket" --prefix "$prefix" --query 'Contents[].[Key,Size]' --output text
  local objects=$OPS_OUT
  local marker_failed=0
  aws_try s3 cp "s3://$bucket/$DEPLOYED_MARKER" - || marker_failed=1
  dry_run && return
  if ((marker_failed)) && [[ $OPS_ERR != *"(404)"* && $OPS_ERR != *NoSuchKey* ]]; then
    die "aws s3 cp s3://$bucket/$DEPLOYED_MARKER failed: $(aws_error_line)"
  fi

  printf 'execution: %s%s\nprefix:    s3://%s/%s\n\n' "$EXECUTION" "${EXECUTION_STATUS:+ ($EXECUTION_STATUS)}" \
    "$bucket" "$prefix"
  local key size relative kind others=()
  local -A listed=()
  while IFS=$'\t' read -r key size; do
    [[ -n $key && $key != None ]] || continue
    relative=${key#"$prefix"}
    kind=$(artifact_kind "$relative")
    if [[ -n $kind ]]; then
      listed[$kind]+=$(printf '  %-9s %-10s %s\n' "$kind" "$(human_size "$size")" "$relative")$'\n'
    else
      others+=("$(printf '  %-10s %s' "$(human_size "$size")" "$relative")")
    fi
  done <<<"$objects"
  printf '  %-9s %-10s %s\n' artifact size object
  for kind in "${ARTIFACT_KINDS[@]}"; do
    if [[ -n ${listed[$kind]-} ]]; then
      printf '%s' "${listed[$kind]}"
    else
      printf '  %-9s %-10s %s\n' "$kind" - "not written"
    fi
  done
  if ((${#others[@]})); then
    printf '\nother objects of the run:\n'
    printf '%s\n' "${others[@]}"
  fi

  printf '\ndeployed (s3://%s/%s):\n' "$bucket" "$DEPLOYED_MARKER"
  if ((marker_failed)); then
    printf 'nothing deployed yet\n'
  else
    printf '%s\n' "$OPS_OUT"
  fi
}
