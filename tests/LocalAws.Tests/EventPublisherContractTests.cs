using CustomerSegmentation.LocalAws.Events;

namespace CustomerSegmentation.LocalAws.Tests;

public class EventPublisherContractTests
{
    [Fact]
    public void PublishAsync_Signature_TakesSourceDetailTypeDetailAndResources()
    {
        var parameters = typeof(IEventPublisher).GetMethod(nameof(IEventPublisher.PublishAsync))!.GetParameters();

        Assert.Equal(["source", "detailType", "detail", "resources", "cancellationToken"], parameters.Select(p => p.Name));
    }
}
