using Akka.Actor;
using Akka.Event;
using Akka.Persistence;

namespace O2X.Actors.Persistence;

/// <summary>
/// O2X's journal and snapshot store use the tables Akka.Persistence.Sql creates. Before their first query
/// they ask the corresponding Akka.Persistence.Sql plugin a harmless question; its answer means its
/// auto-initialization (CREATE TABLE IF NOT EXISTS) has run. Retried with backoff while the database is down.
/// </summary>
internal sealed class StockPluginProbe
{
    private readonly Func<IActorRef, object> _question;
    private readonly Func<object, bool> _isAnswer;
    private readonly Func<IActorRef> _plugin;
    private readonly ILoggingAdapter _log;
    private static readonly TimeSpan SlowAnswer = TimeSpan.FromSeconds(10);
    private readonly object _lock = new();
    private Task? _ready;

    private StockPluginProbe(ActorSystem system, Func<IActorRef> plugin, Func<IActorRef, object> question, Func<object, bool> isAnswer)
    {
        _plugin = plugin;
        _question = question;
        _isAnswer = isAnswer;
        _log = Logging.GetLogger(system, typeof(StockPluginProbe));
    }

    public static StockPluginProbe ForJournal(ActorSystem system, string pluginId) => new(
        system,
        () => Akka.Persistence.Persistence.Instance.Apply(system).JournalFor(pluginId),
        replyTo => new ReplayMessages(1, 1, 1, "o2x-schema-probe", replyTo),
        reply => reply is RecoverySuccess);

    public static StockPluginProbe ForSnapshotStore(ActorSystem system, string pluginId) => new(
        system,
        () => Akka.Persistence.Persistence.Instance.Apply(system).SnapshotStoreFor(pluginId),
        _ => new LoadSnapshot("o2x-schema-probe", SnapshotSelectionCriteria.Latest, long.MaxValue),
        reply => reply is LoadSnapshotResult);

    /// <summary>Completes once the tables exist; a failed attempt is retried by the next caller.</summary>
    public Task ReadyAsync()
    {
        lock (_lock)
        {
            if (_ready is null || _ready.IsFaulted || _ready.IsCanceled) _ready = ProbeAsync();
            return _ready;
        }
    }

    private async Task ProbeAsync()
    {
        var plugin = _plugin();
        var delay = TimeSpan.FromMilliseconds(100);
        for (var attempt = 1; ; attempt++)
        {
            var asked = plugin.Ask<object>(_question, TimeSpan.FromSeconds(30), CancellationToken.None);
            // Every entity's recovery waits for this answer: say so when it is slow, instead of leaving only their timeouts.
            if (await Task.WhenAny(asked, Task.Delay(SlowAnswer)).ConfigureAwait(false) != asked)
                _log.Warning("{0} has not answered for {1} s (its tables are created on first use); every recovery waits for it",
                    plugin.Path, SlowAnswer.TotalSeconds);
            var reply = await asked.ConfigureAwait(false);
            if (_isAnswer(reply)) return;
            if (attempt >= 10) throw new InvalidOperationException($"The persistence tables are not available: {reply}");
            _log.Warning("Persistence tables not ready yet ({0}); retrying", reply);
            await Task.Delay(delay).ConfigureAwait(false);
            delay *= 2;
        }
    }
}
