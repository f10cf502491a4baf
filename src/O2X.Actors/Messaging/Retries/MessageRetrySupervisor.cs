using System.Text;
using Akka.Actor;
using O2X.Actors.Hosting;
using Akka.Event;
using O2X.Actors.Messaging.Outbox;
using O2X.Actors.Persistence;
using O2X.Actors.Messaging.Bindings;
using O2X.Actors.Messaging;

namespace O2X.Actors.Messaging.Retries;

/// <summary>
/// Supervises the retries of one message whose first attempt (run inline) failed (seed §5.2). Each retry is a child
/// <see cref="AttemptWorker"/>; when an attempt fails with a retryable exception, this supervisor records the failure in the
/// <see cref="DeliveryAttemptStore"/> (the count is cluster-wide and survives crashes), and starts the next
/// attempt after the policy's backoff with jitter. When the redeliveries are spent, the message goes to the
/// <see cref="DeadLetterStore"/>. The asker gets exactly one reply: the final outcome.
/// </summary>
internal sealed class MessageRetrySupervisor : ReceiveActor, IWithTimers
{
    private readonly ExecuteMessage _message;
    private readonly IActorRef _replyTo;
    private readonly RetrySettings _settings;
    private readonly DeliveryAttemptStore _attempts;
    private readonly DeadLetterStore _deadLetters;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CancellationTokenRegistration _cancelled;
    private IActorRef? _worker;
    private Exception? _lastFailure;
    private int _localAttempts;
    private bool _hasFailed;

    public MessageRetrySupervisor(ExecuteMessage message, IActorRef replyTo, RetrySettings settings, DeliveryAttemptStore attempts,
        DeadLetterStore deadLetters)
    {
        _message = message;
        _replyTo = replyTo;
        _settings = settings;
        _attempts = attempts;
        _deadLetters = deadLetters;
        var self = Self;
        _cancelled = message.Cancellation.Register(() => self.Tell(Cancelled.Instance));

        Receive<AttemptSucceeded>(succeeded =>
        {
            if (_hasFailed) ForgetAttempts();
            Finish(succeeded.Outcome);
        });
        Receive<Terminated>(terminated =>
        {
            if (!terminated.ActorRef.Equals(_worker) || _lastFailure is null) return;
            OnAttemptFailed(_lastFailure);
        });
        Receive<FailureRecorded>(recorded => Decide(recorded.Record, recorded.Failure));
        Receive<RetryNow>(_ => StartAttempt());
        Receive<DeadLetterStored>(stored =>
        {
            _log.Warning("Message {0} (correlation {1}) on {2} dead-lettered (#{3}) after {4} attempts: {5}", Id, Correlation, Envelope.Queue, stored.Id,
                stored.Attempts, TextExcerpt.Of(stored.Failure.Message, 256));
            Finish(new HandlingOutcome.DeadLettered(stored.Id, stored.Attempts, TypeName(stored.Failure), stored.Failure.Message));
        });
        Receive<Status.Failure>(failure =>
        {
            // The attempt or dead-letter store itself is unavailable: give the message back to its transport.
            _log.Warning("Could not record the failure of message {0} (correlation {1}) on {2}; it stays unacknowledged ({3}: {4})", Id, Correlation,
                Envelope.Queue, failure.Cause.GetType().Name, TextExcerpt.Of(failure.Cause.Message, 256));
            Finish(new HandlingOutcome.Failed(TypeName(failure.Cause), "Retry bookkeeping unavailable: " + failure.Cause.Message));
        });
        Receive<Cancelled>(_ => Finish(new HandlingOutcome.Failed(nameof(OperationCanceledException),
            "Stopped before the message was handled (shutdown or time limit); it stays unacknowledged.")));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    private MessageEnvelope Envelope => _message.Envelope;

    /// <summary>The ids as they may appear in a log line (they come from the sender).</summary>
    private string Id => TextExcerpt.Of(Envelope.MessageId, 128);

    private string Correlation => TextExcerpt.Of(Envelope.CorrelationId, 128);

    public static Props Props(ExecuteMessage message, IActorRef replyTo, RetrySettings settings, DeliveryAttemptStore attempts, DeadLetterStore deadLetters) =>
        FactoryProps.Of(() => new MessageRetrySupervisor(message, replyTo, settings, attempts, deadLetters));

    /// <remarks>
    /// Akka's own logging of the failure is off: a failed attempt is an expected event, logged once by this supervisor
    /// (a line per retry, a warning when dead-lettered), not an error with a stack trace per attempt.
    /// </remarks>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(-1, -1, cause =>
    {
        // A failed attempt is never restarted in place: the next one starts after its backoff.
        _lastFailure = cause is AttemptFailedException { InnerException: { } inner } ? inner : cause;
        return Directive.Stop;
    }, loggingEnabled: false);

    /// <summary>The first attempt already ran inline and failed: count it, then retry after its backoff.</summary>
    protected override void PreStart()
    {
        _localAttempts = 1;
        OnAttemptFailed(_message.FirstFailure is AggregateException { InnerExceptions.Count: 1 } one ? one.InnerExceptions[0] : _message.FirstFailure);
    }

    protected override void PostStop() => _cancelled.Dispose();

    private void StartAttempt()
    {
        _localAttempts++;
        _lastFailure = null;
        _worker = Context.ActorOf(AttemptWorker.Props(_message.Plan, _settings.Breaker, _settings.AttemptTimeout, _message.Cancellation),
            "attempt-" + _localAttempts);
        Context.Watch(_worker);
    }

    private void OnAttemptFailed(Exception failure)
    {
        _hasFailed = true;
        var outcome = OutcomeClassifier.FromException(failure, _settings.Exceptions);
        if (outcome is HandlingOutcome.Rejected)
        {
            Finish(outcome); // the binding does not retry this kind of exception
            return;
        }

        _attempts.RecordFailureAsync(Envelope.Queue, Envelope.MessageId, TypeName(failure), failure.Message, DateTime.UtcNow)
            .PipeTo(Self, success: record => new FailureRecorded(record, failure));
    }

    private void Decide(AttemptRecord record, Exception failure)
    {
        if (record.Attempts <= _settings.Policy.MaxRedeliveries)
        {
            var delay = _settings.Policy.Delay(record.Attempts, Random.Shared);
            _log.Info("Message {0} (correlation {1}) on {2} failed attempt {3} ({4}); next attempt in {5} ms", Id, Correlation, Envelope.Queue, record.Attempts,
                TextExcerpt.Of(failure.Message, 256), (int)delay.TotalMilliseconds);
            Timers.StartSingleTimer("retry", RetryNow.Instance, delay);
            _settings.OnRetryScheduled?.Invoke(Envelope.Queue, record.Attempts, delay);
            return;
        }

        var letter = new DeadLetterRecord(0, Envelope.Queue, Envelope.MessageId, Envelope.CorrelationId, Envelope.Headers, CardData.StorableBytes(Envelope.Body.Span),
            record.Attempts, record.FirstFailure, record.LastFailure, TypeName(failure), failure.Message, DeadLetterStatus.Dead, null, 0, DateTime.UtcNow);
        _deadLetters.AddAsync(letter, Forward(letter)).PipeTo(Self, success: id => new DeadLetterStored(id, record.Attempts, failure));
    }

    /// <summary>The copy for the broker's dead-letter destination: the original body, the facts as headers.</summary>
    private OutboundMessage? Forward(DeadLetterRecord letter)
    {
        if (_settings.DeadLetterDestination is not { } destination) return null;
        var utf8 = System.Text.Unicode.Utf8.IsValid(letter.Body);
        var headers = new Dictionary<string, string>(letter.Headers)
        {
            ["x-o2x-source-queue"] = letter.Queue,
            ["x-o2x-source-message-id"] = letter.MessageId,
            ["x-o2x-attempts"] = letter.Attempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["x-o2x-first-failure"] = letter.FirstFailure.ToString("O"),
            ["x-o2x-last-failure"] = letter.LastFailure.ToString("O"),
            ["x-o2x-exception-type"] = letter.ExceptionType,
            ["x-o2x-exception-message"] = letter.ExceptionMessage,
        };
        if (letter.CorrelationId is not null) headers["x-o2x-correlation-id"] = letter.CorrelationId;
        if (!utf8) headers["x-o2x-body-encoding"] = "base64";
        return new OutboundMessage(destination, $"dlq-{letter.Queue}-{letter.MessageId}-{letter.LastFailure.Ticks}", letter.CorrelationId,
            utf8 ? Encoding.UTF8.GetString(letter.Body) : Convert.ToBase64String(letter.Body), headers);
    }

    private void ForgetAttempts() =>
        _attempts.ResetAsync(Envelope.Queue, Envelope.MessageId).ContinueWith(
            t => _log.Warning(t.Exception, "Could not clear the attempt count of message {0}", Envelope.MessageId),
            TaskContinuationOptions.OnlyOnFaulted);

    private void Finish(HandlingOutcome outcome)
    {
        _replyTo.Tell(outcome);
        Context.Stop(Self);
    }

    private static string TypeName(Exception exception) => exception.GetType().FullName ?? exception.GetType().Name;

    private sealed record FailureRecorded(AttemptRecord Record, Exception Failure);

    private sealed record DeadLetterStored(long Id, int Attempts, Exception Failure);

    private sealed class RetryNow
    {
        public static readonly RetryNow Instance = new();
    }

    private sealed class Cancelled
    {
        public static readonly Cancelled Instance = new();
    }
}
