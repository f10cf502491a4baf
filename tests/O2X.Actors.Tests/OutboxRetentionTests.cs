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
    public async Task Messages_older_than_the_retention_go_and_younger_ones_stay(string kind)
    {
        await using var store = await Store.CreateAsync(kind);
        // More than two chunks of old messages, so the pass goes on past a full chunk, then young ones, and another destination.
        const int old = 2 * OutboxRetention.Chunk + 37;
        await store.AppendAsync(Polled, "old", old);
        await store.AppendAsync(Relayed, "other", 10);
        await store.AgeAsync("old-", TimeSpan.FromDays(2));
        await store.AgeAsync("other-", TimeSpan.FromDays(2));
        await store.AppendAsync(Polled, "young", 5);

        var deleted = await store.Outbox.PruneAsync(Polled, long.MaxValue, DateTime.UtcNow - TimeSpan.FromDays(1), OutboxRetention.Chunk);

        deleted.Should().Be(old);
        var left = await store.Outbox.ReadAsync(Polled, 0, 1000);
        left.Select(m => m.MessageId).Should().Equal(Enumerable.Range(1, 5).Select(n => $"young-{n}"));
        left[0].Position.Should().BeGreaterThan(old, "positions are never reused: a reader paging by position goes on where it was");
        (await store.Outbox.CountAsync(Relayed)).Should().Be(10, "another destination's messages are not touched");
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

        Sys.ActorOf(OutboxRetention.Props(store.Outbox,
            new OutboxOptions { Retention = TimeSpan.FromHours(1), RetentionInterval = TimeSpan.FromMilliseconds(100) },
            [Polled, Relayed], new HashSet<string> { Relayed }));

        var reports = new[] { pruned.ExpectMsg<OutboxPruned>(TimeSpan.FromSeconds(30)), pruned.ExpectMsg<OutboxPruned>(TimeSpan.FromSeconds(30)) };
        reports.Should().BeEquivalentTo([new OutboxPruned(Polled, 40), new OutboxPruned(Relayed, 10)]);
        (await store.Outbox.ReadAsync(Polled, 0, 1000)).Select(m => m.MessageId).Should().Equal("young-1", "young-2", "young-3");
        (await store.Outbox.ReadAsync(Relayed, 0, 1000)).Select(m => m.MessageId).Should().Equal(Enumerable.Range(11, 20).Select(n => $"old-r-{n}"));
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

        public async Task AppendAsync(string destination, string prefix, int count)
        {
            var from = _offset++;
            await Outbox.AppendAsync("test-producer", from, _offset, [.. Enumerable.Range(1, count).Select(n =>
                new OutboundMessage(destination, $"{prefix}-{n}", null, $"{{\"n\":{n}}}", new Dictionary<string, string>()))]);
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
