# ops endpoint: the real-time endpoint the EndpointDeployer creates and updates (stack output EndpointName).
# Sourced by scripts/ops after lib.sh.
# shellcheck shell=bash

ops_group endpoint "Show the SageMaker real-time endpoint that serves the model (stack output EndpointName)."
ops_command endpoint list \
  "List the stack's endpoint: status, current config, instance type and count, autoscaling min/max."

# The instance count autoscaling controls, as the EndpointDeployer registers it.
ENDPOINT_SCALABLE_DIMENSION="sagemaker:variant:DesiredInstanceCount"
ENDPOINT_QUERY='[[EndpointName,EndpointStatus,EndpointConfigName,FailureReason],'
# shellcheck disable=SC2016 # backticks are JMESPath literals
ENDPOINT_QUERY+='ProductionVariants[].[VariantName,CurrentInstanceCount,DesiredInstanceCount] || `[]`]'

help_endpoint_list() {
  cat <<'EOF'
The stack has one endpoint with a stable name; the deployer swaps its endpoint configuration (blue/green) for each
new model. Prints "endpoint:", "status:" and "config:" lines (plus "failure:" when SageMaker gives a reason), then
one line per production variant: instance type, instances now and desired, and the autoscaling range
("min-max", or "none" before the deployer has registered it). An endpoint that does not exist yet is reported
as not deployed, which is not an error: it appears once a model is deployed.
EOF
}

cmd_endpoint_list() {
  local endpoint
  stack_output endpoint EndpointName
  # One call for both parts. The `[]` default matters: while an endpoint is Creating it has no variants, and the
  # CLI's text output would then print the missing list as a "None" line before the endpoint's line.
  if ! aws_try sagemaker describe-endpoint --endpoint-name "$endpoint" --query "$ENDPOINT_QUERY" --output text; then
    [[ $OPS_ERR == *"Could not find endpoint"* ]] || die "aws sagemaker describe-endpoint failed: $(aws_error_line)"
    printf 'endpoint: %s\nstatus:   %s\n' "$endpoint" \
      "not deployed yet (the pipeline's Deploy step, or approving a registered model, creates it)"
    return
  fi
  # Dry-run shows the calls for an endpoint with one variant, whose names the describe call would give.
  local status="" config="<EndpointConfigName from describe-endpoint>" reason="" line variants=()
  local resources=("endpoint/$endpoint/variant/<VariantName from describe-endpoint>")
  if ! dry_run; then
    resources=()
    {
      IFS=$'\t' read -r _ status config reason
      while IFS= read -r line; do
        [[ -z $line || $line == None ]] && continue
        variants+=("$line")
        resources+=("endpoint/$endpoint/variant/${line%%$'\t'*}")
      done
    } <<<"$OPS_OUT"
  fi
  aws_read sagemaker describe-endpoint-config --endpoint-config-name "$config" \
    --query 'ProductionVariants[].[VariantName,InstanceType]' --output text
  local types=$OPS_OUT scaling=""
  if ((${#resources[@]})); then
    aws_read application-autoscaling describe-scalable-targets --service-namespace sagemaker \
      --resource-ids "${resources[@]}" --scalable-dimension "$ENDPOINT_SCALABLE_DIMENSION" \
      --query 'ScalableTargets[].[ResourceId,MinCapacity,MaxCapacity]' --output text
    scaling=$OPS_OUT
  fi
  dry_run && return
  printf 'endpoint: %s\nstatus:   %s\nconfig:   %s\n' "$endpoint" "$status" "$config"
  [[ $reason == None || -z $reason ]] || printf 'failure:  %s\n' "$reason"
  if ((${#variants[@]} == 0)); then
    printf '\nno production variant yet\n'
    return
  fi
  printf '\n  %-16s %-16s %-10s %-8s %s\n' variant "instance type" instances desired autoscaling
  local variant current desired type range name value min max
  for line in "${variants[@]}"; do
    IFS=$'\t' read -r variant current desired <<<"$line"
    type=unknown range=none
    while IFS=$'\t' read -r name value; do
      [[ $name != "$variant" ]] || type=$value
    done <<<"$types"
    while IFS=$'\t' read -r name min max; do
      [[ $name != "endpoint/$endpoint/variant/$variant" ]] || range="$min-$max"
    done <<<"$scaling"
    printf '  %-16s %-16s %-10s %-8s %s\n' "$variant" "$type" "${current/#None/-}" "${desired/#None/-}" "$range"
  done
}
