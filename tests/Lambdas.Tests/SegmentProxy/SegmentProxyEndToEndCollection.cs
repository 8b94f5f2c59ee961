namespace CustomerSegmentation.Lambdas.Tests.SegmentProxy;

/// <summary>
/// The end-to-end tests of the published SegmentProxy bootstrap that start several processes each (model server,
/// s3rver, the bootstrap, a browser). They share one <see cref="ProxyBootstrapFixture"/> and run after the parallel
/// collections, one class at a time: that keeps their publish from racing ProxyBootstrapTests' publish of the same
/// project into the same folder, and their timings off a host busy with the rest of the suite.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SegmentProxyEndToEndCollection : ICollectionFixture<ProxyBootstrapFixture>
{
    public const string Name = "SegmentProxy end to end";
}
