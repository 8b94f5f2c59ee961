using CustomerSegmentation.AwsPackageReplacements.Core;

namespace CustomerSegmentation.Lambdas.Tests;

public class RetryOptionsTests
{
    [Theory]
    [InlineData(1, 100)]
    [InlineData(2, 200)]
    [InlineData(3, 400)]
    [InlineData(20, 20_000)]
    public void BackoffBefore_MaximalJitter_IsTheExponentialCeilingCappedAtMaxDelay(int retry, int expectedMilliseconds)
    {
        var options = new RetryOptions { Jitter = () => 1.0 };

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMilliseconds), options.BackoffBefore(retry));
    }

    [Fact]
    public void BackoffBefore_Jitter_ScalesTheCeiling()
    {
        var options = new RetryOptions { Jitter = () => 0.25, BaseDelay = TimeSpan.FromSeconds(1) };

        Assert.Equal(TimeSpan.FromSeconds(1), options.BackoffBefore(3));
    }

    [Fact]
    public void BackoffBefore_RetryZero_IsRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RetryOptions().BackoffBefore(0));
    }
}
