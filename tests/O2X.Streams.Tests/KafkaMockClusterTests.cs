using Confluent.Kafka;
using O2X.Testing;

namespace O2X.Streams.Tests;

/// <summary>The Kafka test fixture itself: a real client produces to and consumes from the mock cluster.</summary>
public class KafkaMockClusterTests
{
    [Fact]
    public async Task A_confluent_client_round_trips_messages_through_the_mock_cluster()
    {
        using var cluster = new KafkaMockCluster(brokers: 3);
        cluster.CreateTopic("fixture-check", partitions: 3);
        cluster.BootstrapServers.Split(',').Should().HaveCount(3).And.OnlyContain(s => s.StartsWith("127.0.0.1:"));

        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            for (var i = 0; i < 100; i++)
                await producer.ProduceAsync("fixture-check", new Message<string, string> { Key = "k" + (i % 7), Value = "v" + i });
        }

        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = cluster.BootstrapServers,
            GroupId = "fixture-check",
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Subscribe("fixture-check");
        var values = new HashSet<string>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (values.Count < 100 && DateTime.UtcNow < deadline)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(500));
            if (result is not null) values.Add(result.Message.Value);
        }

        values.Should().HaveCount(100);
    }
}
