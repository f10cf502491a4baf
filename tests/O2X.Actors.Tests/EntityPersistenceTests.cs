using Akka.Actor;
using Akka.TestKit.Xunit2;
using O2X.Actors.Accounts;
using O2X.Actors.Messaging;
using O2X.Actors.Orders;
using O2X.Actors.Persistence;
using Akka.Persistence;
using LinqToDB.Data;
using O2X.Testing;

namespace O2X.Actors.Tests;

/// <summary>The entities against the real Akka.Persistence.Sql journal on a SQLite file.</summary>
public sealed class EntityPersistenceTests : TestKit
{
    private static readonly TempDirectory Data = new();
    private static readonly DateTimeOffset At = new(2024, 2, 11, 10, 45, 0, TimeSpan.Zero);

    private readonly string _databaseFile;
    private readonly O2XDatabase _database;
    private readonly OrderNumberStore _orderNumbers;

    public EntityPersistenceTests() : this(Data.File($"journal-{Guid.NewGuid():N}.db")) { }

    private EntityPersistenceTests(string databaseFile) : base(EntityTestConfig.SqliteJournal(databaseFile))
    {
        _databaseFile = databaseFile;
        _database = new O2XDatabase(new O2X.Actors.Hosting.PersistenceOptions { SqlitePath = databaseFile });
        _orderNumbers = new OrderNumberStore(_database);
    }

    [Fact]
    public void An_order_is_recovered_from_the_journal_by_a_new_incarnation()
    {
        var first = Sys.ActorOf(Props.Create(() => new OrderActor("ORD-T-1", 100)));
        first.Tell(new PlaceOrder("ORD-T-1", TestData.Intake("m1"), TestData.Details()));
        ExpectMsg<CommandDone>().WasDuplicate.Should().BeFalse();
        Stop(first);

        var second = Sys.ActorOf(Props.Create(() => new OrderActor("ORD-T-1", 100)));
        second.Tell(new GetOrder("ORD-T-1"));
        var view = ExpectMsg<OrderView>();
        view.Details.CorrelationId.Should().Be("SF-ORD-1");
        view.Status.Should().Be(OrderStatus.Provisioning);

        second.Tell(new PlaceOrder("ORD-T-1", TestData.Intake("m1"), TestData.Details()));
        ExpectMsg<CommandDone>().WasDuplicate.Should().BeTrue("the processed-message window is recovered with the order");
    }

    [Fact]
    public void An_account_recovered_from_a_snapshot_and_later_events_has_all_changes()
    {
        var account = Sys.ActorOf(Props.Create(() => new AccountActor("ACC-T-1", 2)));
        account.Tell(new PrepareOrder("ACC-T-1", "m1", "ORD-T-1", true, [], At));
        ExpectMsg<CommandDone>();
        account.Tell(new UpdateAccount("ACC-T-1", TestData.Intake("m2"), new PostalAddress("1 St", "Town", null, null, null), null));
        ExpectMsg<CommandDone>();
        account.Tell(new UpdateAccount("ACC-T-1", TestData.Intake("m3"), null, new PaymentMethod("CARD", "tok_1", true)));
        ExpectMsg<CommandDone>();
        Stop(account);

        var again = Sys.ActorOf(Props.Create(() => new AccountActor("ACC-T-1", 2)));
        again.Tell(new GetAccount("ACC-T-1"));
        var view = ExpectMsg<AccountView>();
        view.BillingAddress!.City.Should().Be("Town");
        view.PaymentMethod!.Token.Should().Be("tok_1");
    }

    [Fact]
    public void An_unknown_account_is_not_found_and_refuses_updates()
    {
        var account = Sys.ActorOf(Props.Create(() => new AccountActor("ACC-T-404", 100)));

        account.Tell(new GetAccount("ACC-T-404"));
        ExpectMsg<EntityNotFound>();
        account.Tell(new UpdateAccount("ACC-T-404", TestData.Intake("m1"), null, null));
        ExpectMsg<CommandRefused>().ErrorCode.Should().Be(ErrorCodes.AccountNotFound);
    }

    [Fact]
    public void Order_numbers_are_sequential_per_day_and_stable_per_key_across_restarts()
    {
        var allocator = Sys.ActorOf(Props.Create(() => new OrderNumberAllocator("20240211", _orderNumbers)));
        var probes = Enumerable.Range(0, 10).Select(_ => CreateTestProbe()).ToArray();
        for (var i = 0; i < probes.Length; i++) allocator.Tell(new AllocateOrderNumber("20240211", $"corr-{i}"), probes[i]);
        allocator.Tell(new AllocateOrderNumber("20240211", "corr-0"), probes[0]);
        var ids = probes.Select(p => p.ExpectMsg<OrderNumberAssigned>()).ToArray();
        probes[0].ExpectMsg<OrderNumberAssigned>().Should().Be(new OrderNumberAssigned(ids[0].OrderId, IsNew: false));
        Stop(allocator);

        ids.Select(a => a.OrderId).Should().BeEquivalentTo(Enumerable.Range(1, 10).Select(n => $"ORD-20240211-{n:000}"));
        ids.Should().OnlyContain(a => a.IsNew);
        // The allocator read the day's legacy journal on start, so this process runs the database's journal writer: the
        // numbers above were written in its group commits (the same database, found by the same connection string).
        O2X.Actors.Persistence.Journal.JournalWriters.For(_database.ConnectionString).Should().NotBeNull();

        var again = Sys.ActorOf(Props.Create(() => new OrderNumberAllocator("20240211", _orderNumbers)));
        again.Tell(new AllocateOrderNumber("20240211", "corr-3"));
        ExpectMsg<OrderNumberAssigned>().Should().Be(new OrderNumberAssigned(ids[3].OrderId, IsNew: false));
        again.Tell(new AllocateOrderNumber("20240211", "corr-new"));
        ExpectMsg<OrderNumberAssigned>().Should().Be(new OrderNumberAssigned("ORD-20240211-011", IsNew: true));
    }

    [Fact]
    public async Task Numbering_fifty_thousand_orders_of_a_day_keeps_nothing_that_grows_with_them()
    {
        const int count = 50_000;
        var allocator = Sys.ActorOf(Props.Create(() => new OrderNumberAllocator("20240301", _orderNumbers)));

        var assigned = await Task.WhenAll(Enumerable.Range(1, count).Select(n =>
            allocator.Ask<OrderNumberAssigned>(new AllocateOrderNumber("20240301", $"SF-{n}"), TimeSpan.FromSeconds(120))));
        var resubmitted = await allocator.Ask<OrderNumberAssigned>(new AllocateOrderNumber("20240301", "SF-12345"), TimeSpan.FromSeconds(30));
        var held = await allocator.Ask<OrderNumbering>(new GetOrderNumbering("20240301"), TimeSpan.FromSeconds(30));

        assigned.Select(a => int.Parse(a.OrderId["ORD-20240301-".Length..])).Should().BeEquivalentTo(Enumerable.Range(1, count),
            "every order of the day has its own number, with no gaps");
        resubmitted.Should().Be(new OrderNumberAssigned(assigned[12344].OrderId, IsNew: false), "the key's number comes from the table");
        held.Should().Be(new OrderNumbering("20240301", count, Waiting: 0, Writing: false), "the allocator holds its last number only");
        // Nothing written to the journal or the snapshot store for the day: the keys live in the table.
        JournalRows("order-numbers-20240301").Should().Be(0);
        JournalRows("order-numbers-20240301", "snapshot").Should().Be(0);
        (await _orderNumbers.LastNumberAsync("20240301")).Should().Be(count);
    }

    [Fact]
    public async Task A_number_taken_behind_the_allocators_back_is_skipped_not_given_twice()
    {
        var allocator = Sys.ActorOf(Props.Create(() => new OrderNumberAllocator("20240212", _orderNumbers)));
        allocator.Tell(new AllocateOrderNumber("20240212", "first"));
        ExpectMsg<OrderNumberAssigned>().OrderId.Should().Be("ORD-20240212-001");
        // What a commit whose answer was lost, or an earlier incarnation's late write, leaves behind: number 2 is taken.
        await using (var db = await _database.OpenAsync())
            await db.ExecuteAsync("INSERT INTO o2x_order_number (day, order_key, number) VALUES ('20240212', 'ghost', 2)");

        allocator.Tell(new AllocateOrderNumber("20240212", "second"));
        ExpectMsg<OrderNumberAssigned>().Should().Be(new OrderNumberAssigned("ORD-20240212-003", IsNew: true),
            "each write numbers on from the day's highest number in the table, read in its own transaction");
    }

    [Fact]
    public void A_day_numbered_by_an_earlier_version_keeps_its_numbers_and_goes_on_from_them()
    {
        // An allocator of the previous version persisted every key of the day as events.
        var legacy = Sys.ActorOf(Props.Create(() => new LegacyAllocatorJournal("order-numbers-20240115", "20240115")));
        legacy.Tell("write");
        ExpectMsg("written");
        Stop(legacy);

        var allocator = Sys.ActorOf(Props.Create(() => new OrderNumberAllocator("20240115", _orderNumbers)));
        allocator.Tell(new AllocateOrderNumber("20240115", "old-2"));
        ExpectMsg<OrderNumberAssigned>().Should().Be(new OrderNumberAssigned("ORD-20240115-002", IsNew: false));
        allocator.Tell(new AllocateOrderNumber("20240115", "new-1"));
        ExpectMsg<OrderNumberAssigned>().Should().Be(new OrderNumberAssigned("ORD-20240115-004", IsNew: true));
    }

    /// <summary>Writes what an allocator of the previous version wrote: three <see cref="OrderNumberAllocated"/> events.</summary>
    private sealed class LegacyAllocatorJournal : ReceivePersistentActor
    {
        public LegacyAllocatorJournal(string persistenceId, string day)
        {
            PersistenceId = persistenceId;
            Command<string>(_ =>
            {
                var sender = Sender;
                PersistAll(Enumerable.Range(1, 3).Select(n => new OrderNumberAllocated(day, $"old-{n}", n)), e =>
                {
                    if (e.Number == 3) sender.Tell("written");
                });
            });
        }

        public override string PersistenceId { get; }
    }

    private long JournalRows(string persistenceId, string table = "journal")
    {
        using var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_databaseFile}");
        db.Open();
        using var command = db.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM {table} WHERE persistence_id = $id";
        command.Parameters.AddWithValue("$id", persistenceId);
        return (long)command.ExecuteScalar()!;
    }

    private void Stop(IActorRef actor)
    {
        Watch(actor);
        Sys.Stop(actor);
        ExpectTerminated(actor);
    }
}
