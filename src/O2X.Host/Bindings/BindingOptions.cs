using O2X.Actors.Messaging.DeadLetters;
using O2X.Streams.Amqp;
using O2X.Actors.Messaging.Bindings;

namespace O2X.Host.Bindings;

/// <summary>Where a queue's messages come from or an outbound destination's messages go.</summary>
internal enum TransportKind
{
    /// <summary>In-process: HTTP ingestion for queues, the outbox table (read over the API) for destinations.</summary>
    Embedded,

    /// <summary>RabbitMQ over AMQP 0-9-1 (<c>O2X:Transports:RabbitMq</c>).</summary>
    Amqp091,

    /// <summary>An AMQP 1.0 broker: ActiveMQ, Amazon MQ, Artemis, RabbitMQ's plugin (<c>O2X:Transports:Amqp10</c>).</summary>
    Amqp10,

    /// <summary>Kafka (<c>O2X:Transports:Kafka</c>).</summary>
    Kafka,

    /// <summary>STOMP 1.2: ActiveMQ, Amazon MQ for ActiveMQ — the seed's own broker (<c>O2X:Transports:Stomp</c>).</summary>
    Stomp,

    /// <summary>The same as <see cref="Stomp"/>, by the broker's name.</summary>
    ActiveMq = Stomp,

    /// <summary>E-mail over SMTP (<c>O2X:Transports:Smtp</c>): for the INVOICE destination only — each invoice to its billing contact, with its PDF.</summary>
    Smtp,
}

/// <summary>
/// How one O2X queue is consumed (<c>O2X:Bindings:{QUEUE}</c>): from which transport and address, by which
/// handler, how many at once, where refused messages and dead letters go, how failures are retried, when the
/// circuit breaker opens, what the reprocessor does with dead letters. Every enabled queue also accepts
/// messages over HTTP ingestion, whatever its transport.
/// </summary>
internal sealed class BindingOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>Where messages come from besides HTTP ingestion. Default: <see cref="TransportKind.Embedded"/> (HTTP only).</summary>
    public TransportKind Transport { get; set; } = TransportKind.Embedded;

    /// <summary>
    /// Broker queue (AMQP 0-9-1), address (AMQP 1.0; default: the transport's address template applied to the
    /// queue name) or topic (Kafka). Default: the O2X queue name.
    /// </summary>
    public string? Address { get; set; }

    /// <summary>Registered handler name (<c>[QueueHandler("...")]</c>); required for queues O2X does not define itself.</summary>
    public string? Handler { get; set; }

    /// <summary>Messages handled at once (different ordering keys). Default: <c>O2X:Ingestion:Parallelism</c>.</summary>
    public int? Concurrency { get; set; }

    /// <summary>Messages the broker may hand out unsettled: basic.qos (AMQP 0-9-1), link credit (AMQP 1.0), records per partition (Kafka).</summary>
    public int Prefetch { get; set; } = 100;

    /// <summary>Longest one attempt may take before it counts as failed. Default: three entity ask timeouts.</summary>
    public TimeSpan? AttemptTimeout { get; set; }

    /// <summary>Kafka consumer group.</summary>
    public string ConsumerGroup { get; set; } = "o2x";

    /// <summary>Declared queue type on RabbitMQ (AMQP 0-9-1).</summary>
    public AmqpQueueType QueueType { get; set; } = AmqpQueueType.Quorum;

    /// <summary>Outbound destination of the error envelope of refused messages (seed §5.3), e.g. <c>OMS_ERROR</c>.</summary>
    public string? ErrorDestination { get; set; }

    /// <summary>Outbound destination that also gets every dead letter with its facts as headers (e.g. <c>OMS.DLQ</c>); unset: none.</summary>
    public string? DeadLetterDestination { get; set; }

    public RetryOptions Retry { get; set; } = new();

    public ExceptionOptions Exceptions { get; set; } = new();

    public BreakerOptions CircuitBreaker { get; set; } = new();

    public DeadLetterOptions DeadLetters { get; set; } = new();

    public IEnumerable<string> Validate(string section)
    {
        if (Prefetch is < 1 or > ushort.MaxValue) yield return $"{section}:Prefetch must be between 1 and {ushort.MaxValue} (was {Prefetch}).";
        if (Concurrency is < 1 or > 1024) yield return $"{section}:Concurrency must be between 1 and 1024 (was {Concurrency}).";
        if (AttemptTimeout is { } t && (t < TimeSpan.FromMilliseconds(100) || t > TimeSpan.FromHours(6)))
            yield return $"{section}:AttemptTimeout must be between 00:00:00.1 and 06:00:00 (was {t}).";
        if (Address is not null && string.IsNullOrWhiteSpace(Address)) yield return $"{section}:Address must not be blank.";
        if (string.IsNullOrWhiteSpace(ConsumerGroup)) yield return $"{section}:ConsumerGroup must not be blank.";
        foreach (var problem in Retry.ToPolicy().Validate(section + ":Retry")) yield return problem;
        foreach (var problem in CircuitBreaker.Validate(section + ":CircuitBreaker")) yield return problem;
        foreach (var problem in DeadLetters.Validate(section + ":DeadLetters")) yield return problem;
        foreach (var (name, value) in new[] { ("ErrorDestination", ErrorDestination), ("DeadLetterDestination", DeadLetterDestination) })
            if (value is not null && !O2X.Actors.Messaging.EntityIds.IsValid(value))
                yield return $"{section}:{name} '{value}' is not a valid destination name ({O2X.Actors.Messaging.EntityIds.Rule}).";
    }

    /// <summary>Seed §5.2 defaults.</summary>
    public sealed class RetryOptions
    {
        public TimeSpan InitialDelay { get; set; } = RetryPolicy.Default.InitialDelay;
        public double Multiplier { get; set; } = RetryPolicy.Default.Multiplier;
        public TimeSpan MaxDelay { get; set; } = RetryPolicy.Default.MaxDelay;
        public int MaxRedeliveries { get; set; } = RetryPolicy.Default.MaxRedeliveries;
        public double Jitter { get; set; } = RetryPolicy.Default.Jitter;

        public RetryPolicy ToPolicy() => new()
        {
            InitialDelay = InitialDelay, Multiplier = Multiplier, MaxDelay = MaxDelay, MaxRedeliveries = MaxRedeliveries, Jitter = Jitter,
        };
    }

    /// <summary>Which exceptions are retried (seed §5.1): unknown ones by default; full type names.</summary>
    public sealed class ExceptionOptions
    {
        public bool RetryUnknown { get; set; } = true;
        public string[]? NonRetryable { get; set; }
        public string[]? Retryable { get; set; }

        public ExceptionPolicy ToPolicy() => new()
        {
            RetryUnknownExceptions = RetryUnknown,
            NonRetryable = NonRetryable ?? [],
            Retryable = Retryable ?? [],
        };
    }

    public sealed class BreakerOptions
    {
        /// <summary>Consecutive failed attempts that open the breaker.</summary>
        public int MaxFailures { get; set; } = 5;

        /// <summary>Open time before the first probe; doubles after each failed probe up to <see cref="MaxResetTimeout"/>.</summary>
        public TimeSpan ResetTimeout { get; set; } = TimeSpan.FromSeconds(5);

        public TimeSpan MaxResetTimeout { get; set; } = TimeSpan.FromSeconds(60);

        public IEnumerable<string> Validate(string section)
        {
            if (MaxFailures < 1) yield return $"{section}:MaxFailures must be at least 1 (was {MaxFailures}).";
            if (ResetTimeout < TimeSpan.FromMilliseconds(10)) yield return $"{section}:ResetTimeout must be at least 00:00:00.01 (was {ResetTimeout}).";
            if (MaxResetTimeout < ResetTimeout) yield return $"{section}:MaxResetTimeout must be at least ResetTimeout (was {MaxResetTimeout}).";
        }
    }

    /// <summary>What the scheduled reprocessor does with this binding's dead letters.</summary>
    public sealed class DeadLetterOptions
    {
        /// <summary>Exception types (full names) worth requeueing automatically. Unset: <see cref="DeadLetterPolicy.DefaultTransientExceptions"/>.</summary>
        public string[]? TransientExceptions { get; set; }

        /// <summary>Older dead letters are never requeued automatically.</summary>
        public TimeSpan MaxAge { get; set; } = DeadLetterPolicy.Default.MaxAge;

        /// <summary>Automatic requeues of one message at most, before it becomes an incident.</summary>
        public int MaxRequeues { get; set; } = DeadLetterPolicy.Default.MaxRequeues;

        public DeadLetterPolicy ToPolicy() => new(TransientExceptions ?? DeadLetterPolicy.DefaultTransientExceptions, MaxAge, MaxRequeues);

        public IEnumerable<string> Validate(string section)
        {
            if (MaxAge <= TimeSpan.Zero) yield return $"{section}:MaxAge must be positive (was {MaxAge}).";
            if (MaxRequeues < 0) yield return $"{section}:MaxRequeues must not be negative (was {MaxRequeues}).";
        }
    }
}

/// <summary>The dead-letter reprocessor (<c>O2X:DeadLetters</c>).</summary>
internal sealed class DeadLetterReprocessingOptions
{
    public const string Section = "O2X:DeadLetters";

    /// <summary>How often the reprocessor runs (seed §5.3: every 6 hours).</summary>
    public TimeSpan ReprocessInterval { get; set; } = TimeSpan.FromHours(6);

    /// <summary>A requeue interrupted by a crash is released for another try after this long.</summary>
    public TimeSpan StaleRequeueAfter { get; set; } = TimeSpan.FromMinutes(5);

    public IEnumerable<string> Validate()
    {
        if (ReprocessInterval < TimeSpan.FromSeconds(1)) yield return $"{Section}:ReprocessInterval must be at least 00:00:01 (was {ReprocessInterval}).";
        if (StaleRequeueAfter < TimeSpan.FromSeconds(1)) yield return $"{Section}:StaleRequeueAfter must be at least 00:00:01 (was {StaleRequeueAfter}).";
    }
}
