# Sourced by the project's commands: the environment every one of them runs in.
# shellcheck shell=bash
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
export CDK_DISABLE_CLI_TELEMETRY=true
export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# Debian's python carries scikit-learn 1.2.1, the version of the SageMaker scikit-learn 1.2-1 container.
export SEGMENTATION_PYTHON=/usr/bin/python3
