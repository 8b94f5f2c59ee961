using CustomerSegmentation.AwsPackageReplacements.Lambda.RuntimeSupport;
using CustomerSegmentation.EndpointDeployer;

return await LambdaRuntime.RunFromEnvironmentAsync((logger, _) => Task.FromResult(DeployerFunction.Create(Environment.GetEnvironmentVariable, logger).Handler));
