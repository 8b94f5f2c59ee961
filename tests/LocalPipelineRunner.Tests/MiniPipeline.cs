namespace CustomerSegmentation.LocalPipelineRunner.Tests;

/// <summary>
/// A small hand-written pipeline with every step type the runner executes: Processing (prepare) -> Training ->
/// Processing with a property file (evaluate) -> Condition -> Model + RegisterModel, or Fail. The scripts are tiny
/// Python programs that record what the SageMaker contract gives them, so tests can check it.
/// </summary>
internal static class MiniPipeline
{
    public const string PrepareScript = """
        import json, os, sys
        args = sys.argv[1:]
        scale = int(args[args.index("--scale") + 1])
        rows = open("/opt/ml/processing/input/data/data.csv".replace("/opt/ml/", os.environ["OPT_ML"])).read().split()
        out = os.environ["OUT_DIR"]
        os.makedirs(out + "/nested", exist_ok=True)
        with open(out + "/train.csv", "w") as f:
            f.write("\n".join(str(int(r) * scale) for r in rows))
        with open(out + "/nested/contract.json", "w") as f:
            json.dump({"python": os.path.realpath(sys.executable), "endpoint": os.environ.get("AWS_ENDPOINT_URL_S3"),
                       "key": os.environ.get("AWS_ACCESS_KEY_ID"), "region": os.environ.get("AWS_DEFAULT_REGION"),
                       "out_dir": out, "cwd": os.getcwd()}, f)
        print("prepared", len(rows), "rows")
        """;

    public const string TrainScript = """
        import argparse, json, os
        parser = argparse.ArgumentParser()
        parser.add_argument("--n-clusters", type=int)
        parser.add_argument("--mode")
        parser.add_argument("--empty")
        args = parser.parse_args()
        values = [int(v) for v in open(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "train.csv")).read().split()]
        print("metric: score=0.75")
        with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w") as f:
            f.write(str(sum(values) * args.n_clusters))
        env = {k: v for k, v in os.environ.items() if k.startswith("SM_")}
        env["cwd"] = os.getcwd()
        env["args"] = vars(args)
        env["hyperparameters.json"] = json.load(open("/opt/ml/input/config/hyperparameters.json".replace("/opt/ml/", os.environ["SM_MODEL_DIR"][:-len("model")])))
        with open(os.path.join(os.environ["SM_MODEL_DIR"], "env.json"), "w") as f:
            json.dump(env, f)
        print("metric: score=0.8")
        """;

    public const string EvaluateScript = """
        import json, os, tarfile
        root = os.environ["OPT_ML"]
        with tarfile.open(root + "processing/input/model/model.tar.gz") as tar:
            total = int(tar.extractfile("model.txt").read())
        os.makedirs(root + "processing/output/evaluation", exist_ok=True)
        with open(root + "processing/output/evaluation/evaluation.json", "w") as f:
            json.dump({"metrics": {"score": 0.8, "total": total, "sizes": [1, 2]}}, f)
        """;

    /// <summary>The definition; <paramref name="code"/> holds the scripts, <paramref name="data"/> the input, <paramref name="models"/> the outputs.</summary>
    public static string Definition(string code, string data, string models) => Template
        .Replace("{{code}}", code, StringComparison.Ordinal)
        .Replace("{{data}}", data, StringComparison.Ordinal)
        .Replace("{{models}}", models, StringComparison.Ordinal);

    private const string Template = """
        {
          "Version": "2020-12-01",
          "Metadata": {},
          "Parameters": [
            {"Name": "Input", "Type": "String", "DefaultValue": "s3://{{data}}/in/data.csv"},
            {"Name": "Scale", "Type": "Integer", "DefaultValue": 3},
            {"Name": "Threshold", "Type": "Float", "DefaultValue": 0.5},
            {"Name": "ApprovalStatus", "Type": "String", "DefaultValue": "PendingManualApproval"}
          ],
          "PipelineExperimentConfig": {},
          "Steps": [
            {
              "Name": "Evaluate", "Type": "Processing",
              "Arguments": {
                "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 30}},
                "AppSpecification": {"ImageUri": "image", "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/evaluate.py"]},
                "RoleArn": "arn:aws:iam::000000000000:role/Role",
                "Environment": {"OPT_ML": "/opt/ml/"},
                "ProcessingInputs": [
                  {"InputName": "code", "S3Input": {"S3Uri": "s3://{{code}}/evaluate.py", "LocalPath": "/opt/ml/processing/input/code", "S3DataType": "S3Prefix", "S3InputMode": "File"}},
                  {"InputName": "model", "S3Input": {"S3Uri": {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}, "LocalPath": "/opt/ml/processing/input/model", "S3DataType": "S3Prefix", "S3InputMode": "File"}}
                ],
                "ProcessingOutputConfig": {"Outputs": [
                  {"OutputName": "evaluation", "S3Output": {"S3Uri": {"Std:Join": {"On": "/", "Values": ["s3://{{models}}/runs", {"Get": "Execution.PipelineExecutionId"}, "evaluation"]}}, "LocalPath": "/opt/ml/processing/output/evaluation", "S3UploadMode": "EndOfJob"}}
                ]}
              },
              "PropertyFiles": [{"PropertyFileName": "Report", "OutputName": "evaluation", "FilePath": "evaluation.json"}]
            },
            {
              "Name": "Prepare", "Type": "Processing",
              "Arguments": {
                "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 30}},
                "AppSpecification": {"ImageUri": "image", "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/prepare.py"],
                  "ContainerArguments": ["--scale", {"Std:Join": {"On": "", "Values": [{"Get": "Parameters.Scale"}]}}]},
                "RoleArn": "arn:aws:iam::000000000000:role/Role",
                "Environment": {"OUT_DIR": "/opt/ml/processing/output/train", "OPT_ML": "/opt/ml/"},
                "ProcessingInputs": [
                  {"InputName": "code", "S3Input": {"S3Uri": "s3://{{code}}/prepare.py", "LocalPath": "/opt/ml/processing/input/code", "S3DataType": "S3Prefix", "S3InputMode": "File"}},
                  {"InputName": "data", "S3Input": {"S3Uri": {"Get": "Parameters.Input"}, "LocalPath": "/opt/ml/processing/input/data", "S3DataType": "S3Prefix", "S3InputMode": "File"}}
                ],
                "ProcessingOutputConfig": {"Outputs": [
                  {"OutputName": "train", "S3Output": {"S3Uri": {"Std:Join": {"On": "/", "Values": ["s3://{{models}}/runs", {"Get": "Execution.PipelineExecutionId"}, "prepare/train"]}}, "LocalPath": "/opt/ml/processing/output/train", "S3UploadMode": "EndOfJob"}}
                ]}
              }
            },
            {
              "Name": "Train", "Type": "Training",
              "Arguments": {
                "AlgorithmSpecification": {"TrainingImage": "image", "TrainingInputMode": "File",
                  "MetricDefinitions": [{"Name": "score", "Regex": "metric: score=([-0-9.eE+]+)"}, {"Name": "absent", "Regex": "absent=([0-9.]+)"}]},
                "HyperParameters": {
                  "sagemaker_program": "\"train.py\"",
                  "sagemaker_submit_directory": "s3://{{code}}/sourcedir.tar.gz",
                  "n-clusters": {"Std:Join": {"On": "", "Values": [{"Get": "Parameters.Scale"}]}},
                  "mode": "fast",
                  "empty": ""
                },
                "InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                  "S3Uri": {"Get": "Steps.Prepare.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"}, "S3DataDistributionType": "FullyReplicated"}}}],
                "OutputDataConfig": {"S3OutputPath": {"Std:Join": {"On": "/", "Values": ["s3://{{models}}/runs", {"Get": "Execution.PipelineExecutionId"}, "training"]}}},
                "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 30},
                "RoleArn": "arn:aws:iam::000000000000:role/Role",
                "StoppingCondition": {"MaxRuntimeInSeconds": 3600}
              }
            },
            {
              "Name": "Gate", "Type": "Condition",
              "Arguments": {
                "Conditions": [{"Type": "GreaterThanOrEqualTo",
                  "LeftValue": {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.Report"}, "Path": "metrics.score"}},
                  "RightValue": {"Get": "Parameters.Threshold"}}],
                "IfSteps": [
                  {"Name": "CreateModel", "Type": "Model", "Arguments": {"ExecutionRoleArn": "arn:aws:iam::000000000000:role/Role",
                    "PrimaryContainer": {"Image": "image", "ModelDataUrl": {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}, "Environment": {"SAGEMAKER_PROGRAM": "inference.py"}}}},
                  {"Name": "Register", "Type": "RegisterModel", "Arguments": {
                    "ModelPackageGroupName": "mini-models",
                    "ModelApprovalStatus": {"Get": "Parameters.ApprovalStatus"},
                    "InferenceSpecification": {"Containers": [{"Image": "image", "ModelDataUrl": {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}}],
                      "SupportedContentTypes": ["application/json"], "SupportedResponseMIMETypes": ["application/json"]},
                    "ModelMetrics": {"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": {"Std:Join": {"On": "/", "Values": [
                      {"Get": "Steps.Evaluate.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"}, "evaluation.json"]}}}}},
                    "CustomerMetadataProperties": {"ModelName": {"Get": "Steps.CreateModel.ModelName"}, "PipelineExecutionArn": {"Get": "Execution.PipelineExecutionArn"}}
                  }}
                ],
                "ElseSteps": [
                  {"Name": "Stop", "Type": "Fail", "Arguments": {"ErrorMessage": {"Std:Join": {"On": " ", "Values": [
                    "score", {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.Report"}, "Path": "metrics.score"}},
                    "is below", {"Get": "Parameters.Threshold"}]}}}}
                ]
              }
            }
          ]
        }
        """;
}
