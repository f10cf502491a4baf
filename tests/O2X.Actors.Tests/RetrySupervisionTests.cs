using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Akka.Actor;
using Akka.Streams;
using Akka.TestKit.Xunit2;
using O2X.Actors.Hosting;
using O2X.Actors.Messaging.DeadLetters;
using O2X.Actors.Messaging.Retries;
using O2X.Actors.Persistence;
using O2X.Actors.Messaging.Bindings;
using O2X.Actors.Messaging;
using O2X.Testing;

namespace O2X.Actors.Tests;

/// <summary>Supervised retries (seed §5.2) with the real attempt and dead-letter stores on SQLite.</summary>
public sealed class RetrySupervisionTests : TestKit, IDisposable
{
    private static readonly RetryPolicy Fast = new()
    {
        InitialDelay = TimeSpan.FromMilliseconds(100), Multiplier = 2, MaxDelay = TimeSpan.FromSeconds(5), MaxRedeliveries = 3, Jitter = 0.1,
    };

    private readonly TempDirectory _data = new();
    private readonly O2XDatabase _database;
    private readonly DeliveryAttemptStore _attempts;
    private readonly DeadLetterStore _deadLetters;
    private readonly OutboxStore _outbox;

    public RetrySupervisionTests()
    {
        var persistence = new PersistenceOptions { SqlitePath = _data.File("retries.db") };
        DatabasePreparation.Prepare(persistence);
        _database = new O2XDatabase(persistence);
        _attempts = new DeliveryAttemptStore(_database);
        _deadLetters = new DeadLetterStore(_database);
        _outbox = new OutboxStore(_database);
    }

    [Fact]
    public async Task Retry_delays_follow_the_schedule_within_the_jitter_bounds()
    {
        var plan = new ScriptedPlan(failures: 3);
        var asked = new ConcurrentQueue<(int Attempt, TimeSpan Delay)>();
        var executor = Executor(Fast, onRetryScheduled: (_, attempt, delay) => asked.Enqueue((attempt, delay)));

        var outcome = await executor.ExecuteAsync(Envelope("m-schedule"), plan.Plan("k"), default);

        outcome.Should().BeOfType<HandlingOutcome.Processed>();
        // What the supervisor asked of the scheduler: the seed's backoff, each delay within its jitter bounds.
        asked.Select(a => a.Attempt).Should().Equal(1, 2, 3);
        foreach (var (attempt, delay) in asked)
        {
            var nominal = Fast.NominalDelay(attempt).TotalMilliseconds;
            delay.TotalMilliseconds.Should().BeInRange(nominal * (1 - Fast.Jitter), nominal * (1 + Fast.Jitter),
                $"redelivery {attempt} (nominal {nominal} ms, ±{Fast.Jitter:P0} jitter)");
        }

        // And the scheduler kept it: no attempt started before its delay was over (a timer never fires early;
        // how late it fires on a loaded machine is not the code's contract, so there is no upper bound).
        var gaps = plan.Gaps();
        gaps.Should().HaveCount(3);
        foreach (var ((_, delay), gap) in asked.Zip(gaps))
            gap.Should().BeGreaterThanOrEqualTo(delay.TotalMilliseconds - SchedulerTick, "an attempt waits for its backoff");

        (await _attempts.GetAsync("TEST", "m-schedule")).Should().BeNull("a success forgets the attempt count");
    }

    [Fact]
    public async Task A_non_retryable_failure_is_not_retried()
    {
        var plan = new ScriptedPlan(failures: 5, failWith: () => new NonRetryableException("ACCOUNT_NOT_FOUND", "no such account"));

        var outcome = await Executor(Fast).ExecuteAsync(Envelope("m-nr"), plan.Plan("k"), default);

        outcome.Should().Be(new HandlingOutcome.Rejected("ACCOUNT_NOT_FOUND", "no such account"));
        plan.Attempts.Should().Be(1);
    }

    [Fact]
    public async Task An_exception_the_binding_does_not_retry_is_refused_at_once()
    {
        var plan = new ScriptedPlan(failures: 5, failWith: () => new FormatException("corrupt"));

        var outcome = await Executor(Fast, new ExceptionPolicy { NonRetryable = ["System.FormatException"] })
            .ExecuteAsync(Envelope("m-format"), plan.Plan("k"), default);

        outcome.Should().BeOfType<HandlingOutcome.Rejected>().Which.ErrorCode.Should().Be(ExceptionPolicy.HandlerErrorCode);
        plan.Attempts.Should().Be(1);
    }

    [Fact]
    public async Task Exhausted_retries_land_in_the_dead_letter_store_with_every_fact_and_a_dlq_copy()
    {
        var plan = new ScriptedPlan(failures: int.MaxValue, failWith: () => new TimeoutException("downstream timed out"));
        var envelope = Envelope("m-dead", body: "{\"order\":1}", correlationId: "corr-9", headers: new() { ["x-origin"] = "test" });
        var started = DateTime.UtcNow;

        var outcome = await Executor(Fast).ExecuteAsync(envelope, plan.Plan("k"), default);

        var dead = outcome.Should().BeOfType<HandlingOutcome.DeadLettered>().Subject;
        dead.Attempts.Should().Be(Fast.MaxRedeliveries + 1);
        plan.Attempts.Should().Be(Fast.MaxRedeliveries + 1);
        var letter = (await _deadLetters.GetAsync(dead.DeadLetterId))!;
        letter.Queue.Should().Be("TEST");
        letter.MessageId.Should().Be("m-dead");
        letter.CorrelationId.Should().Be("corr-9");
        letter.Body.Should().Equal(Encoding.UTF8.GetBytes("{\"order\":1}"));
        letter.Headers["x-origin"].Should().Be("test");
        letter.Attempts.Should().Be(4);
        letter.FirstFailure.Should().BeOnOrAfter(started.AddSeconds(-1)).And.BeBefore(letter.LastFailure);
        letter.ExceptionType.Should().Be("System.TimeoutException");
        letter.ExceptionMessage.Should().Be("downstream timed out");
        letter.Status.Should().Be(DeadLetterStatus.Dead);
        (await _attempts.GetAsync("TEST", "m-dead")).Should().BeNull();

        var copy = (await _outbox.ReadAsync("TEST.DLQ", 0, 10)).Should().ContainSingle().Subject;
        copy.Payload.Should().Be("{\"order\":1}");
        copy.Headers["x-o2x-attempts"].Should().Be("4");
        copy.Headers["x-o2x-exception-type"].Should().Be("System.TimeoutException");
        copy.Headers["x-o2x-source-message-id"].Should().Be("m-dead");
        copy.Headers["x-origin"].Should().Be("test");
    }

    [Fact]
    public async Task The_attempt_count_is_per_message_not_per_process()
    {
        // Two attempts failed earlier elsewhere (another node, or this one before a crash).
        await _attempts.RecordFailureAsync("TEST", "m-moved", "System.TimeoutException", "earlier", DateTime.UtcNow.AddMinutes(-1));
        await _attempts.RecordFailureAsync("TEST", "m-moved", "System.TimeoutException", "earlier", DateTime.UtcNow.AddMinutes(-1));
        var plan = new ScriptedPlan(failures: int.MaxValue);

        var outcome = await Executor(Fast).ExecuteAsync(Envelope("m-moved"), plan.Plan("k"), default);

        outcome.Should().BeOfType<HandlingOutcome.DeadLettered>().Which.Attempts.Should().Be(4);
        plan.Attempts.Should().Be(2, "the message had 2 of its 4 attempts left");
    }

    [Fact]
    public async Task Other_messages_keep_flowing_during_a_retry_and_per_key_order_holds()
    {
        var done = new ConcurrentQueue<string>();
        // A fails until C (another account) has finished: if C had to wait behind A's retries, A would be
        // dead-lettered instead of succeeding. B (A's account) must still come after A.
        var slow = new ScriptedPlan(failures: 1, onSuccess: () => done.Enqueue("A"), failUntil: () => done.Contains("C"));
        var handler = new KeyedHandler(new Dictionary<string, (string Key, ScriptedPlan Plan)>
        {
            ["A"] = ("account-1", slow),
            ["B"] = ("account-1", new ScriptedPlan(0, onSuccess: () => done.Enqueue("B"))),
            ["C"] = ("account-2", new ScriptedPlan(0, onSuccess: () => done.Enqueue("C"))),
        });
        var policy = Fast with { MaxRedeliveries = 20, MaxDelay = TimeSpan.FromSeconds(1) };
        await using var queue = new IngestionQueue("TEST", handler, 16, HandlingSettings.Default.WithParallelism(4), Sys.Materializer(), null,
            Executor(policy));

        var a = queue.TryEnqueue(Envelope("A", body: "A"))!;
        var b = queue.TryEnqueue(Envelope("B", body: "B"))!;
        var c = queue.TryEnqueue(Envelope("C", body: "C"))!;
        var outcomes = await Task.WhenAll(a, b, c);

        outcomes.Should().AllBeOfType<HandlingOutcome.Processed>("A succeeded once C was through, so C did not wait behind A's retries");
        slow.Attempts.Should().BeGreaterThan(1, "A was retried");
        done.Should().Equal(["C", "A", "B"], "B waits behind A on the same account");
    }

    [Fact]
    public async Task Requeue_makes_a_dead_letter_succeed_once_the_cause_is_fixed_and_two_operators_requeue_it_once()
    {
        var broken = true;
        var handled = new ConcurrentQueue<string>();
        var handler = new DelegateHandler(e =>
        {
            if (broken) throw new TimeoutException("dependency down");
            handled.Enqueue(e.MessageId);
        });
        await using var queue = new IngestionQueue("TEST", handler, 16, HandlingSettings.Default, Sys.Materializer(), null, Executor(Fast));
        var dead = (HandlingOutcome.DeadLettered)await queue.TryEnqueue(Envelope("m-fixme"))!;
        var requeuer = new DeadLetterRequeuer(_deadLetters, _attempts, q => q == "TEST" ? queue : null);

        broken = false;
        var results = await Task.WhenAll(requeuer.RequeueAsync(dead.DeadLetterId), requeuer.RequeueAsync(dead.DeadLetterId));

        results.Should().BeEquivalentTo([RequeueResult.Requeued, RequeueResult.NotRequeueable]);
        await Eventually.TrueAsync(() => handled.Contains("m-fixme"), TimeSpan.FromSeconds(10), "the requeued message is handled");
        handled.Should().ContainSingle();
        var letter = (await _deadLetters.GetAsync(dead.DeadLetterId))!;
        letter.Status.Should().Be(DeadLetterStatus.Requeued);
        letter.RequeueCount.Should().Be(1);
    }

    [Fact]
    public async Task The_reprocessor_requeues_transient_dead_letters_and_raises_incidents_for_the_rest()
    {
        var handled = new ConcurrentQueue<string>();
        var handler = new DelegateHandler(e => handled.Enqueue(e.MessageId));
        await using var queue = new IngestionQueue("TEST", handler, 16, HandlingSettings.Default, Sys.Materializer());
        var transient = await _deadLetters.AddAsync(Letter("m-transient", "System.TimeoutException"), null);
        var bug = await _deadLetters.AddAsync(Letter("m-bug", "System.NullReferenceException"), null);
        var requeuer = new DeadLetterRequeuer(_deadLetters, _attempts, q => q == "TEST" ? queue : null);
        var reprocessor = Sys.ActorOf(DeadLetterReprocessor.Props(_deadLetters, requeuer, _ => DeadLetterPolicy.Default, TimeSpan.FromHours(1),
            TimeSpan.FromMinutes(5)));

        reprocessor.Tell(DeadLetterReprocessor.Tick.Instance);

        await Eventually.TrueAsync(() => handled.Contains("m-transient"), TimeSpan.FromSeconds(10), "the transient one is requeued");
        await Eventually.TrueAsync(async () => (await _deadLetters.GetAsync(bug))!.Status == DeadLetterStatus.Incident, TimeSpan.FromSeconds(10),
            "the other becomes an incident");
        (await _deadLetters.GetAsync(transient))!.Status.Should().Be(DeadLetterStatus.Requeued);
        (await _deadLetters.GetAsync(bug))!.StatusReason.Should().Contain("not a transient cause");
        handled.Should().NotContain("m-bug");
    }

    [Fact]
    public async Task A_node_dying_between_attempts_does_not_reset_the_count_on_the_node_that_gets_the_message_next()
    {
        var first = ActorSystem.Create("node-that-dies");
        var slowRetry = Fast with { InitialDelay = TimeSpan.FromMilliseconds(100), Multiplier = 30 }; // 100 ms, then 3 s: time to kill it
        var failing = new ScriptedPlan(failures: int.MaxValue);
        var pending = Executor(slowRetry, system: first).ExecuteAsync(Envelope("m-crash"), failing.Plan("k"), default);
        await Eventually.TrueAsync(async () => (await _attempts.GetAsync("TEST", "m-crash"))?.Attempts == 2, TimeSpan.FromSeconds(10),
            "two attempts failed and the third waits for its backoff");

        await first.Terminate(); // the node dies: its retry timer and in-memory state are gone
        (await pending).Should().BeOfType<HandlingOutcome.Failed>("the message was not finished, so it is not acknowledged");

        // The transport redelivers the unacknowledged message, here to another node.
        var secondNode = new ScriptedPlan(failures: int.MaxValue);
        var outcome = await Executor(Fast).ExecuteAsync(Envelope("m-crash"), secondNode.Plan("k"), default);

        outcome.Should().BeOfType<HandlingOutcome.DeadLettered>().Which.Attempts.Should().Be(Fast.MaxRedeliveries + 1);
        secondNode.Attempts.Should().Be(2, "4 attempts in all: 2 on the node that died, 2 here");
    }

    /// <summary>Resolution of Akka's default scheduler (akka.scheduler.tick-duration): a timer may fire up to one tick off its deadline.</summary>
    private const double SchedulerTick = 10;

    private SupervisedRetryExecutor Executor(RetryPolicy policy, ExceptionPolicy? exceptions = null, ActorSystem? system = null,
        Action<string, int, TimeSpan>? onRetryScheduled = null)
    {
        system ??= Sys;
        var breaker = new BindingCircuitBreaker(system.Scheduler, 1000, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10));
        var settings = new RetrySettings("TEST", policy, exceptions ?? ExceptionPolicy.Default, breaker, "TEST.DLQ", TimeSpan.FromSeconds(10))
        {
            OnRetryScheduled = onRetryScheduled,
        };
        var supervisor = system.ActorOf(BindingRetrySupervisor.Props(settings, _attempts, _deadLetters));
        return new SupervisedRetryExecutor(system, supervisor, settings);
    }

    internal static MessageEnvelope Envelope(string id, string body = "{}", string? correlationId = null, Dictionary<string, string>? headers = null) =>
        new(id, "TEST", correlationId, headers ?? new Dictionary<string, string>(), Encoding.UTF8.GetBytes(body), 1, DateTimeOffset.UtcNow);

    private static DeadLetterRecord Letter(string messageId, string exceptionType) => new(
        0, "TEST", messageId, null, new Dictionary<string, string>(), "{}"u8.ToArray(), 8, DateTime.UtcNow.AddMinutes(-5), DateTime.UtcNow,
        exceptionType, "boom", DeadLetterStatus.Dead, null, 0, DateTime.UtcNow);

    public new void Dispose()
    {
        base.Dispose();
        _data.Dispose();
    }

    /// <summary>Fails a given number of times (and while <paramref name="failUntil"/> says no), then succeeds; remembers when each attempt started.</summary>
    internal sealed class ScriptedPlan(int failures, Func<Exception>? failWith = null, Action? onSuccess = null, Func<bool>? failUntil = null)
    {
        private readonly ConcurrentQueue<long> _starts = new();
        private int _attempts;

        public int Attempts => Volatile.Read(ref _attempts);

        public HandlingPlan Plan(string key) => new(key, _ =>
        {
            _starts.Enqueue(Stopwatch.GetTimestamp());
            if (Interlocked.Increment(ref _attempts) <= failures || failUntil?.Invoke() == false)
                throw failWith?.Invoke() ?? new TimeoutException("transient");
            onSuccess?.Invoke();
            return Task.FromResult<HandlingOutcome>(HandlingOutcome.ProcessedWith());
        });

        public IReadOnlyList<double> Gaps()
        {
            var starts = _starts.ToArray();
            return [.. starts.Zip(starts.Skip(1), (a, b) => Stopwatch.GetElapsedTime(a, b).TotalMilliseconds)];
        }
    }

    private sealed class KeyedHandler(IReadOnlyDictionary<string, (string Key, ScriptedPlan Plan)> plans) : IMessageHandler
    {
        public HandlingPlan Plan(MessageEnvelope envelope)
        {
            var (key, plan) = plans[envelope.MessageId];
            return plan.Plan(key);
        }
    }

    private sealed class DelegateHandler(Action<MessageEnvelope> handle) : IMessageHandler
    {
        public HandlingPlan Plan(MessageEnvelope envelope) => new(envelope.MessageId, _ =>
        {
            handle(envelope);
            return Task.FromResult<HandlingOutcome>(HandlingOutcome.ProcessedWith());
        });
    }
}
