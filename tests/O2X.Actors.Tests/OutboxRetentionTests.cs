using Akka.TestKit.Xunit2;
using LinqToDB;
using LinqToDB.Async;
using O2X.Actors.Hosting;
using O2X.Actors.Messaging.Outbox;
using O2X.Actors.Persistence;
using O2X.Testing;

namespace O2X.Actors.Tests;

/// <summary>The outbox's retention (<c>O2X:Outbox:Retention</c>) on both stores: what goes, what must stay.</summary>
public sealed class OutboxRetentionTests : TestKit
{
    private const string Polled = "RETENTION_POLLED";
    private const string Relayed = "RETENTION_RELAYED";

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Expired_messages_go_in_position_order_and_what_a_relay_has_not_published_stays(string kind)
    {
        await using var store = await Store.CreateAsync(kind);
        // More than two chunks of old messages to two destinations side by side (as an order's messages lie), then young ones.
        const int pairs = OutboxRetention.Chunk + 20;
        await store.AppendAsync([.. Enumerable.Range(1, pairs).SelectMany(n => new[] { (Polled, $"old-p-{n}"), (Relayed, $"old-r-{n}") })]);
        await store.AgeAsync("old-", TimeSpan.FromDays(2));
        await store.AppendAsync(Polled, "young", 5);
        var relayed = await store.Outbox.ReadAsync(Relayed, 0, 10_000);
        var published = relayed[99].Position; // the relay has published 100 of them
        var firstYoung = (await store.Outbox.ReadAsync(Polled, 0, 10_000)).Single(m => m.MessageId == "young-1").Position;

        var (deleted, reached) = await store.Outbox.PruneExpiredAsync(0, DateTime.UtcNow - TimeSpan.FromDays(1),
            new Dictionary<string, long> { [Relayed] = published }, OutboxRetention.Chunk);

        deleted.Should().Be(pairs + 100);
        reached.Should().Be(firstYoung - 1, "the pass stops at the first message too young");
        (await store.Outbox.ReadAsync(Polled, 0, 10_000)).Select(m => m.MessageId).Should().Equal(Enumerable.Range(1, 5).Select(n => $"young-{n}"));
        (await store.Outbox.ReadAsync(Relayed, 0, 10_000)).Select(m => m.MessageId).Should().Equal(
            Enumerable.Range(101, pairs - 100).Select(n => $"old-r-{n}"), "what the relay has not published stays, however old");

        // The relay catches up: what the pass went by goes in the next one, and nothing after where the passes got to.
        (await store.Outbox.PruneAsync(Relayed, Math.Min(relayed[^1].Position, reached), DateTime.UtcNow - TimeSpan.FromDays(1), OutboxRetention.Chunk))
            .Should().Be(pairs - 100);
        (await store.Outbox.CountAsync(Relayed)).Should().Be(0);
        (await store.Outbox.CountAsync(Polled)).Should().Be(5);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Positions_are_never_reused_once_a_destination_was_emptied(string kind)
    {
        // A relay's offset and an HTTP reader's "after" are positions: a new message must come after every one deleted, even when
        // the retention emptied the whole outbox (an idle node), or readers would skip it.
        await using var store = await Store.CreateAsync(kind);
        await store.AppendAsync(Polled, "old", 20);
        await store.AgeAsync("old-", TimeSpan.FromDays(2));
        var last = (await store.Outbox.ReadAsync(Polled, 0, 1000))[^1].Position;
        (await store.Outbox.PruneExpiredAsync(0, DateTime.UtcNow - TimeSpan.FromDays(1), new Dictionary<string, long>(), OutboxRetention.Chunk))
            .Should().Be((20L, last));
        (await store.Outbox.CountAsync(Polled)).Should().Be(0, "the outbox is empty");

        await store.AppendAsync(Polled, "new", 1);

        (await store.Outbox.ReadAsync(Polled, last, 1000)).Select(m => m.MessageId).Should().Equal("new-1");
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task A_broker_bound_destination_loses_only_what_its_relay_has_published(string kind)
    {
        await using var store = await Store.CreateAsync(kind);
        await store.AppendAsync(Relayed, "old", 300);
        await store.AgeAsync("old-", TimeSpan.FromDays(30));
        var all = await store.Outbox.ReadAsync(Relayed, 0, 1000);
        var published = all[119].Position;

        var deleted = await store.Outbox.PruneAsync(Relayed, published, DateTime.UtcNow - TimeSpan.FromDays(1), OutboxRetention.Chunk);

        deleted.Should().Be(120);
        (await store.Outbox.ReadAsync(Relayed, 0, 1000)).Select(m => m.MessageId).Should().Equal(Enumerable.Range(121, 180).Select(n => $"old-{n}"),
            "what the relay has not published yet stays, however old");
    }

    [Fact]
    public async Task The_retention_singleton_deletes_expired_messages_on_its_own_and_reports_them()
    {
        await using var store = await Store.CreateAsync("sqlite");
        await store.AppendAsync(Polled, "old", 40);
        await store.AppendAsync(Relayed, "old-r", 30);
        await store.AgeAsync("old", TimeSpan.FromHours(3));
        await store.AppendAsync(Polled, "young", 3);
        var relayedAll = await store.Outbox.ReadAsync(Relayed, 0, 1000);
        await store.Outbox.MoveReaderOffsetAsync(OutboxRelay.OffsetPrefix + Relayed, 0, relayedAll[9].Position);
        var pruned = CreateTestProbe();
        Sys.EventStream.Subscribe(pruned.Ref, typeof(OutboxPruned));

        var retention = Sys.ActorOf(OutboxRetention.Props(store.Outbox,
            new OutboxOptions { Retention = TimeSpan.FromHours(1), RetentionInterval = TimeSpan.FromMilliseconds(100) },
            new HashSet<string> { Relayed }));

        pruned.ExpectMsg<OutboxPruned>(TimeSpan.FromSeconds(30)).Should().Be(new OutboxPruned(50), "40 expired, and 10 of 30 the relay published");
        (await store.Outbox.ReadAsync(Polled, 0, 1000)).Select(m => m.MessageId).Should().Equal("young-1", "young-2", "young-3");
        (await store.Outbox.ReadAsync(Relayed, 0, 1000)).Select(m => m.MessageId).Should().Equal(Enumerable.Range(11, 20).Select(n => $"old-r-{n}"));
        Watch(retention);
        Sys.Stop(retention);
        ExpectTerminated(retention); // before the database goes away with the test
    }

    /// <summary>A fresh outbox on SQLite (a temporary file) or PostgreSQL (a database of its own on the test server).</summary>
    private sealed class Store : IAsyncDisposable
    {
        private readonly TempDirectory? _directory;
        private readonly PostgresDatabase? _postgres;
        private long _offset;

        private Store(PersistenceOptions persistence, TempDirectory? directory, PostgresDatabase? postgres)
        {
            DatabasePreparation.Prepare(persistence);
            Database = new O2XDatabase(persistence);
            Outbox = new OutboxStore(Database);
            _directory = directory;
            _postgres = postgres;
        }

        public O2XDatabase Database { get; }

        public OutboxStore Outbox { get; }

        public static async Task<Store> CreateAsync(string kind)
        {
            if (kind == "postgres")
            {
                var postgres = await PostgresDatabase.CreateAsync();
                return new Store(new PersistenceOptions { ConnectionString = postgres.ConnectionString }, null, postgres);
            }

            var directory = new TempDirectory();
            return new Store(new PersistenceOptions { SqlitePath = directory.File("o2x.db") }, directory, null);
        }

        public Task AppendAsync(string destination, string prefix, int count) =>
            AppendAsync([.. Enumerable.Range(1, count).Select(n => (destination, $"{prefix}-{n}"))]);

        /// <summary>Appends messages in the order given, in one transaction.</summary>
        public async Task AppendAsync(IReadOnlyList<(string Destination, string Id)> messages)
        {
            var from = _offset++;
            await Outbox.AppendAsync("test-producer", from, _offset, [.. messages.Select(m =>
                new OutboundMessage(m.Destination, m.Id, null, "{\"n\":1}", new Dictionary<string, string>()))]);
        }

        /// <summary>Dates the messages whose id starts with <paramref name="idPrefix"/> back by <paramref name="age"/>.</summary>
        public async Task AgeAsync(string idPrefix, TimeSpan age)
        {
            await using var db = await Database.OpenAsync();
            var at = DateTime.UtcNow - age;
            var aged = await db.GetTable<O2XTables.OutboxRow>().Where(r => r.MessageId.StartsWith(idPrefix)).Set(r => r.CreatedAt, at).UpdateAsync();
            aged.Should().BeGreaterThan(0);
        }

        public async ValueTask DisposeAsync()
        {
            if (_postgres is not null) await _postgres.DisposeAsync();
            _directory?.Dispose();
        }
    }
}
