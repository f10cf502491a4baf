using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using Npgsql;
using O2X.Host.Testing;
using O2X.Testing;
using O2X.Testing.Chaos;
using static O2X.Testing.Chaos.InvariantChecker;
using RabbitMQ.Client;
using Xunit.Abstractions;

namespace O2X.IntegrationTests;

/// <summary>
/// Issue "Load, soak and chaos", at small scale: OMS consumed from RabbitMQ and OMS_RESPONSE published to it, a fault in
/// the middle of the stream, then <see cref="InvariantChecker"/> reads the journal, the outbox and the broker: every order
/// the broker accepted exists exactly once, every response arrives (identical copies under its id allowed and counted,
/// never two different messages under one id, first arrivals in outbox order), nothing is left unacked or dead.
/// The load has 10% duplicates: half redeliveries (same message id), half resubmissions (same order, new message id).
/// The scenarios are three classes (below) so that xUnit runs them beside the other classes instead of one after another:
/// as one class they were the suite's longest path (about five minutes).
/// </summary>
public abstract class ChaosTests(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>Load multiplier: 1 in ./test.sh; the harness runs these tests with <c>O2X_CHAOS_SCALE=20</c> (bench/run.sh chaos).</summary>
    protected static readonly int Scale = int.TryParse(Environment.GetEnvironmentVariable("O2X_CHAOS_SCALE"), out var scale) && scale > 0 ? scale : 1;

    protected static readonly TimeSpan Deadline = TimeSpan.FromSeconds(150 * Scale);
    private readonly string _prefix = "chaos-" + Guid.NewGuid().ToString("N")[..8] + "-";
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<IAsyncDisposable> _cleanup = [];

    protected string Oms => _prefix + "OMS";

    protected string Responses => _prefix + "OMS_RESPONSE";

    protected string Errors => _prefix + "OMS_ERROR";

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        for (var i = _cleanup.Count - 1; i >= 0; i--) await _cleanup[i].DisposeAsync();
    }

    protected void Log(string what) => output.WriteLine($"{_clock.Elapsed.TotalSeconds,6:0.0} s  {what}");

    /// <summary>Publishes a load and returns its good orders per second, from the first publish to the last order stored.</summary>
    protected async Task<double> TimedAsync(string database, ChaosLoad load, int storedBefore)
    {
        var clock = Stopwatch.StartNew();
        await PublishAsync(TestServices.RabbitMqUri, load.Messages);
        await Eventually.TrueAsync(async () => await StoredOrdersAsync(database) >= storedBefore + load.Correlations.Count, Deadline, "the orders are stored");
        return load.Correlations.Count / clock.Elapsed.TotalSeconds;
    }

    protected Dictionary<string, string?> NodeSettings(string database, Uri rabbit) => new()
    {
        ["O2X:Persistence:ConnectionString"] = database,
        ["O2X:Transports:RabbitMq:Uri"] = rabbit.ToString(),
        ["O2X:Bindings:OMS:Transport"] = "Amqp091",
        ["O2X:Bindings:OMS:Address"] = Oms,
        ["O2X:Destinations:OMS_RESPONSE:Transport"] = "Amqp091",
        ["O2X:Destinations:OMS_RESPONSE:Address"] = Responses,
        // Long enough a retry budget (about a minute) to ride out a downed node's shards moving, a broker or a database restart.
        ["O2X:Bindings:OMS:Retry:InitialDelay"] = "00:00:01",
        ["O2X:Bindings:OMS:Retry:MaxDelay"] = "00:00:05",
        ["O2X:Bindings:OMS:Retry:MaxRedeliveries"] = "12",
        ["O2X:Admin:Url"] = "",
        ["Logging:LogLevel:Default"] = "Warning",
    };

    protected async Task<T> Track<T>(T resource) where T : IAsyncDisposable
    {
        _cleanup.Add(resource);
        return resource;
    }

    /// <summary>The same declarations as the node's (durable quorum queues), so whoever comes first creates them.</summary>
    protected async Task DeclareAsync(Uri rabbit, params string[] more)
    {
        await using var connection = await new ConnectionFactory { Uri = rabbit }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        foreach (var queue in new[] { Oms, Responses }.Concat(more))
            await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false,
                arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum" });
        _cleanup.Add(new QueueCleanup(rabbit, [Oms, Responses, .. more]));
    }

    /// <summary>Publishes with publisher confirms: a message counts as accepted once the broker confirmed it.</summary>
    protected async Task PublishAsync(Uri rabbit, IReadOnlyList<(string MessageId, string Body)> messages)
    {
        await using var connection = await new ConnectionFactory { Uri = rabbit }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        foreach (var chunk in messages.Chunk(100))
            await Task.WhenAll(chunk.Select(m => channel.BasicPublishAsync("", Oms, mandatory: true,
                new BasicProperties { MessageId = m.MessageId, ContentType = "application/json", Persistent = true }, Encoding.UTF8.GetBytes(m.Body)).AsTask()));
    }

    protected async Task WaitForOrdersAsync(string database, int count)
    {
        await Eventually.TrueAsync(async () => await StoredOrdersAsync(database) >= count, Deadline, $"{count} orders stored");
        Log($"{count}+ orders stored");
    }

    protected static async Task<long> StoredOrdersAsync(string database)
    {
        await using var db = new NpgsqlConnection(database);
        await db.OpenAsync();
        return await ScalarAsync(db, "SELECT COUNT(*) FROM journal WHERE manifest = 'ord.received.v1'");
    }

    /// <summary>
    /// Waits until the run has settled — every order stored, the inbound queue empty, every event projected into the outbox,
    /// the broker's count of responses steady and at least the outbox's — then checks the invariants.
    /// </summary>
    protected Task<InvariantReport> QuiesceAndCheckAsync(string database, Uri rabbit, RabbitMqManagement management, ChaosLoad load, string? errorQueue = null,
        [CallerMemberName] string scenario = "") =>
        QuiesceAndCheckAsync(database, new RabbitMqChaosBroker(rabbit, management), load, errorQueue, scenario);

    protected async Task<InvariantReport> QuiesceAndCheckAsync(string database, IChaosBroker broker, ChaosLoad load, string? errorQueue, string scenario)
    {
        await Eventually.TrueAsync(async () => await StoredOrdersAsync(database) >= load.Correlations.Count, Deadline, "every order stored");
        Log("every order stored");
        long previous = -1;
        var last = "";
        await Eventually.TrueAsync(async () =>
        {
            var (ready, unacked) = await broker.QueueDepthAsync(Oms);
            var (relayed, _) = await broker.QueueDepthAsync(Responses);
            await using var db = new NpgsqlConnection(database);
            await db.OpenAsync();
            var outbox = await ScalarAsync(db, "SELECT COUNT(*) FROM o2x_outbox WHERE destination = 'OMS_RESPONSE'");
            // The outbox projection has turned every tagged event into outbound messages.
            var projected = await ScalarAsync(db, "SELECT COALESCE(MAX(position), 0) FROM o2x_projection_offset");
            var tagged = await ScalarAsync(db, "SELECT COALESCE(MAX(ordering_id), 0) FROM tags");
            var state = $"inbound ready {ready} unacked {unacked}; projected {projected}/{tagged}; outbox {outbox}, on the broker {relayed}";
            if (state != last) Log(state);
            last = state;
            // The broker may hold more than the outbox: copies sent again after a broker restart (see InvariantChecker).
            var settled = ready + unacked == 0 && projected >= tagged && relayed >= outbox && relayed == previous;
            previous = relayed;
            return settled;
        }, Deadline, "the inbound queue is empty, every event projected and every response on the broker");
        Log("settled");
        var report = await new InvariantChecker(database, broker).CheckAsync(load.Correlations, Oms, Responses, errorQueue is null ? null : load.Poison, errorQueue);
        Log(report.ToString());
        // Also on the run's console, passed or failed, so the number of copies of every run is on record in CI's output.
        Console.WriteLine($"[chaos] {scenario}: {report}");
        return report;
    }

    protected sealed class DisposableDirectory(TempDirectory directory) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            directory.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    private sealed class QueueCleanup(Uri rabbit, string[] queues) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await using var connection = await new ConnectionFactory { Uri = rabbit }.CreateConnectionAsync();
                await using var channel = await connection.CreateChannelAsync();
                foreach (var queue in queues) await channel.QueueDeleteAsync(queue);
            }
            catch (RabbitMQ.Client.Exceptions.BrokerUnreachableException)
            {
                // A broker the test started and already stopped takes its queues with it.
            }
        }
    }
}

/// <summary>A chaos run's messages: orders, 10% duplicates (half redeliveries, half resubmissions), optionally malformed ones.</summary>
public sealed record ChaosLoad(IReadOnlyList<(string MessageId, string Body)> Messages, IReadOnlyCollection<string> Correlations, IReadOnlyCollection<string> Poison)
{
    public static ChaosLoad Orders(int orders, Func<int, int, string> order, double duplicateShare = 0.1, double poisonShare = 0, Func<int, string>? poison = null,
        int first = 1)
    {
        var random = new Random(20261123 + first);
        var messages = new List<(string, string)>();
        var correlations = new List<string>();
        var poisoned = new List<string>();
        for (var n = first; n < first + orders; n++)
        {
            var body = order(n, n % 200);
            messages.Add(($"chaos-{n}", body));
            correlations.Add($"SF-ORD-20240211-{n:00000}");
            if (random.NextDouble() < duplicateShare)
                messages.Add(random.Next(2) == 0 ? ($"chaos-{n}", body) : ($"chaos-{n}-again", body));
            if (poison is not null && random.NextDouble() < poisonShare)
            {
                messages.Add(($"poison-{n}", poison(n)));
                poisoned.Add($"poison-{n}");
            }
        }

        // Duplicates arrive a little later than their originals, not next to them.
        for (var i = messages.Count - 1; i > 0; i--)
        {
            var j = Math.Max(0, i - random.Next(0, 50));
            (messages[i], messages[j]) = (messages[j], messages[i]);
        }

        return new ChaosLoad(messages, correlations, poisoned);
    }
}

/// <summary>Chaos: one of three nodes killed (SIGKILL) under load.</summary>
public sealed class NodeKillChaosTests(ITestOutputHelper output) : ChaosTests(output)
{
    [Fact]
    public async Task A_node_killed_under_load_loses_and_doubles_nothing()
    {
        var database = await Track(await PostgresDatabase.CreateAsync());
        var ports = Enumerable.Range(0, 3).Select(_ => NodeProcess.FreeTcpPort()).ToArray();
        var nodes = new List<NodeProcess>();
        for (var i = 0; i < 3; i++)
        {
            var workdir = new TempDirectory();
            await Track(new DisposableDirectory(workdir));
            var settings = NodeSettings(database.ConnectionString, TestServices.RabbitMqUri);
            settings["O2X:Node:Port"] = ports[i].ToString();
            settings["O2X:Node:SeedNodes:0"] = $"akka.tcp://o2x@127.0.0.1:{ports[0]}";
            settings["O2X:Node:DowningStableAfter"] = "00:00:05";
            nodes.Add(await Track(await NodeProcess.StartAsync(workdir.Path,
                settings.ToDictionary(s => s.Key.Replace(":", "__"), s => s.Value!), Deadline)));
        }

        var load = ChaosLoad.Orders(1000 * Scale, OrderMessages.Order);
        await DeclareAsync(TestServices.RabbitMqUri);
        await PublishAsync(TestServices.RabbitMqUri, load.Messages);
        Log($"published {load.Messages.Count} messages ({load.Correlations.Count} orders)");

        await WaitForOrdersAsync(database.ConnectionString, 300 * Scale);
        // The youngest node (not the one holding the singletons) dies mid-stream with messages in flight.
        await nodes[2].KillAsync();
        Log("killed node 3");

        var report = await QuiesceAndCheckAsync(database.ConnectionString, TestServices.RabbitMqUri, RabbitMqManagement.Shared(), load);
        report.Violations.Should().BeEmpty(report.ToString());
    }
}

/// <summary>Chaos: PostgreSQL stopped under load.</summary>
public sealed class DatabaseOutageChaosTests(ITestOutputHelper output) : ChaosTests(output)
{
    [Fact]
    public async Task A_database_outage_under_load_opens_the_breaker_and_loses_and_doubles_nothing()
    {
        var postgres = await Track(await PostgresServer.StartAsync());
        var settings = NodeSettings(postgres.ConnectionString, TestServices.RabbitMqUri);
        settings["O2X:Entities:AskTimeout"] = "00:00:03";
        settings["O2X:Bindings:OMS:CircuitBreaker:ResetTimeout"] = "00:00:02";
        settings["O2X:Bindings:OMS:CircuitBreaker:MaxResetTimeout"] = "00:00:10"; // see JournalOutageTests
        var node = await Track(new O2XNodeFactory(settings));
        node.CreateClient();
        var breaker = node.Services.GetService(typeof(O2X.Host.Bindings.BindingBreakers)) as O2X.Host.Bindings.BindingBreakers;
        var opened = false;
        breaker!.All["OMS"].StateChanged += s => opened |= s == O2X.Actors.Messaging.Bindings.BreakerState.Open;
        var load = ChaosLoad.Orders(600 * Scale, OrderMessages.Order);
        await DeclareAsync(TestServices.RabbitMqUri);
        // Half the load before the outage and half during it: a node that takes the first half faster than PostgreSQL stops
        // (2,000+ orders/s once the journal sped up) would otherwise have stored everything before the outage began, and met no
        // failure to open its breaker on (seen once on a clean clone: all 600 stored when the database came back).
        var half = load.Messages.Count / 2;
        await PublishAsync(TestServices.RabbitMqUri, [.. load.Messages.Take(half)]);

        await WaitForOrdersAsync(postgres.ConnectionString, 150 * Scale);
        await postgres.StopAsync();
        Log("PostgreSQL stopped");
        await PublishAsync(TestServices.RabbitMqUri, [.. load.Messages.Skip(half)]);
        Log($"published the other {load.Messages.Count - half} messages");
        await Task.Delay(TimeSpan.FromSeconds(Scale > 1 ? 30 : 15)); // the outage
        await postgres.StartAgainAsync();
        Log("PostgreSQL started again");

        var report = await QuiesceAndCheckAsync(postgres.ConnectionString, TestServices.RabbitMqUri, RabbitMqManagement.Shared(), load);
        report.Violations.Should().BeEmpty(report.ToString());
        opened.Should().BeTrue("the breaker opens while the journal is away");
    }
}

/// <summary>Chaos: a RabbitMQ restart, an ActiveMQ failover and a flood of malformed messages, each under load.</summary>
public sealed class BrokerChaosTests(ITestOutputHelper output) : ChaosTests(output)
{
    [Fact]
    public async Task A_broker_restart_mid_stream_loses_and_doubles_nothing()
    {
        var broker = await Track(await RabbitMqServer.StartAsync());
        var database = await Track(await PostgresDatabase.CreateAsync());
        var node = await Track(new O2XNodeFactory(NodeSettings(database.ConnectionString, broker.AmqpUri)));
        node.CreateClient();
        // Enough orders that the broker goes away while they are being consumed (rabbitmqctl takes seconds to stop it).
        var load = ChaosLoad.Orders(2000 * Scale, OrderMessages.Order);
        await DeclareAsync(broker.AmqpUri);
        await PublishAsync(broker.AmqpUri, load.Messages);
        Log($"published {load.Messages.Count} messages");

        await WaitForOrdersAsync(database.ConnectionString, 150 * Scale);
        await broker.StopAppAsync();
        Log("broker stopped");
        await Task.Delay(TimeSpan.FromSeconds(5)); // the outage itself: how long the broker stays away
        await broker.StartAppAsync();
        Log("broker started again");

        using var management = new RabbitMqManagement(broker.ManagementUri);
        var report = await QuiesceAndCheckAsync(database.ConnectionString, broker.AmqpUri, management, load);
        report.Violations.Should().BeEmpty(report.ToString());
    }

    /// <summary>
    /// Issue 17, done-when: Amazon MQ's active/standby on ActiveMQ. 5,000 orders published over STOMP to the active broker,
    /// which is killed with <c>kill -9</c> while the node consumes them; the standby takes the store's lock and the node's
    /// binding and outbox relay move there (failover list); every order is stored once, every response is on the broker.
    /// </summary>
    [Fact]
    public async Task An_activemq_failover_mid_stream_loses_and_doubles_nothing()
    {
        var starting = ActiveMqBroker.StartAsync();
        var database = await Track(await PostgresDatabase.CreateAsync());
        var active = await Track(await starting);
        var standby = await Track(await active.StartStandbyAsync());
        var settings = NodeSettings(database.ConnectionString, TestServices.RabbitMqUri);
        settings["O2X:Bindings:OMS:Transport"] = "ActiveMq";
        settings["O2X:Destinations:OMS_RESPONSE:Transport"] = "ActiveMq";
        settings["O2X:Transports:Stomp:Address"] = $"failover:({active.StompSsl},{standby.StompSsl})";
        settings["O2X:Transports:Stomp:Username"] = active.User;
        settings["O2X:Transports:Stomp:Password"] = active.Password;
        settings["O2X:Transports:Stomp:CaCertificate"] = active.CaPath;
        settings["O2X:Transports:Stomp:DestinationTemplate"] = "/queue/{queue}";
        var node = await Track(new O2XNodeFactory(settings));
        var http = node.CreateClient();

        var load = ChaosLoad.Orders(5000 * Scale, OrderMessages.Order);
        await using (var producer = await RawStompClient.ConnectAsync(active.StompPort, active.User, active.Password))
        {
            // Accepted = receipted by the broker (persistent: in its store). A sliding window: a chunk written, then the receipt
            // of the chunk before awaited.
            var previous = 0;
            foreach (var chunk in load.Messages.Chunk(200))
            {
                var last = 0;
                foreach (var (id, body) in chunk)
                    last = producer.QueueSend("/queue/" + Oms, body, new Dictionary<string, string> { ["message_id"] = id, ["persistent"] = "true" });
                await producer.FlushAsync();
                if (previous > 0) await producer.AwaitReceiptAsync(previous);
                previous = last;
            }

            await producer.AwaitReceiptAsync(previous);
        }

        Log($"published {load.Messages.Count} messages ({load.Correlations.Count} orders)");

        await WaitForOrdersAsync(database.ConnectionString, 1000 * Scale);
        // Readiness is the binding's connection state (HealthChecks): record its every change rather than polling, so a gap
        // shorter than a poll cannot be missed.
        var binding = ((O2X.Host.Bindings.BrokerBindings)node.Services.GetService(typeof(O2X.Host.Bindings.BrokerBindings))!).Running["OMS"];
        var changes = new System.Collections.Concurrent.ConcurrentQueue<string>();
        binding.Control.Status.Changed += s => changes.Enqueue(s.State.ToString());
        active.Kill();
        Log("active broker killed");
        try
        {
            await Eventually.TrueAsync(async () => changes.Contains("Reconnecting") && binding.Control.Status.State == O2X.Streams.Connectors.ConnectionState.Connected
                                                   && (await http.GetAsync("/health/ready")).IsSuccessStatusCode,
                Deadline, "the binding reports the gap (not ready) and the recovery on the standby (ready)");
        }
        catch (TimeoutException ex)
        {
            var ready = await http.GetAsync("/health/ready");
            throw new TimeoutException($"{ex.Message}; binding states {string.Join(" → ", changes)}, now {binding.Control.Status.Snapshot}; " +
                                       $"/health/ready {(int)ready.StatusCode}; standby: {standby.Diagnose()}", ex);
        }
        Log($"ready again on the standby ({string.Join(" → ", changes)})");

        var report = await QuiesceAndCheckAsync(database.ConnectionString, new ActiveMqChaosBroker(standby.StompPort, standby.User, standby.Password), load, null,
            nameof(An_activemq_failover_mid_stream_loses_and_doubles_nothing));
        report.Violations.Should().BeEmpty(report.ToString());
    }

    [Fact]
    public async Task A_poison_flood_puts_every_bad_message_in_the_error_queue_once_and_the_good_ones_through()
    {
        var database = await Track(await PostgresDatabase.CreateAsync());
        var settings = NodeSettings(database.ConnectionString, TestServices.RabbitMqUri);
        settings["O2X:Destinations:OMS_ERROR:Transport"] = "Amqp091";
        settings["O2X:Destinations:OMS_ERROR:Address"] = Errors;
        var node = await Track(new O2XNodeFactory(settings));
        node.CreateClient();
        await DeclareAsync(TestServices.RabbitMqUri, Errors);

        // Good orders alone, then as many good orders with 10% malformed ones mixed in: the good ones' throughput is logged
        // (measured, not asserted: the harness reports it at full scale).
        var warmup = ChaosLoad.Orders(200, OrderMessages.Order, first: 900_001);
        await TimedAsync(database.ConnectionString, warmup, 0);
        var clean = ChaosLoad.Orders(500 * Scale, OrderMessages.Order, first: 1);
        var cleanRate = await TimedAsync(database.ConnectionString, clean, warmup.Correlations.Count);
        var load = ChaosLoad.Orders(500 * Scale, OrderMessages.Order, poisonShare: 0.1, poison: n => OrderMessages.Invalid(n).Body, first: 500 * Scale + 1);
        var poisonedRate = await TimedAsync(database.ConnectionString, load, warmup.Correlations.Count + clean.Correlations.Count);
        Log($"good orders/s: {cleanRate:N0} alone, {poisonedRate:N0} with {load.Poison.Count} malformed mixed in ({poisonedRate / cleanRate:0.00}×)");

        var all = new ChaosLoad([.. warmup.Messages, .. clean.Messages, .. load.Messages],
            [.. warmup.Correlations, .. clean.Correlations, .. load.Correlations], load.Poison);
        var report = await QuiesceAndCheckAsync(database.ConnectionString, TestServices.RabbitMqUri, RabbitMqManagement.Shared(), all, Errors);
        report.Violations.Should().BeEmpty(report.ToString());
        report.ErrorQueueCopies.Should().HaveCount(load.Poison.Count);
    }
}
