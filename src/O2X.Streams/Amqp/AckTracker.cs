using RabbitMQ.Client;

namespace O2X.Streams.Amqp;

/// <summary>
/// Acknowledgements of one channel. Deliveries complete in any order; the tracker acknowledges the
/// contiguous completed prefix with one <c>basic.ack(multiple = true)</c> once <c>batch</c> of them are done
/// or <c>interval</c> has passed. A release is a <c>basic.nack(requeue = true)</c> of that one delivery.
/// Thread-safe: handles settle from wherever the pipeline finishes with a message.
/// </summary>
internal sealed class AckTracker
{
    private readonly IChannel _channel;
    private readonly int _batch;
    private readonly TimeSpan _interval;
    private readonly object _lock = new();
    private readonly LinkedList<Entry> _pending = new();
    private readonly Dictionary<ulong, LinkedListNode<Entry>> _byTag = new();
    private ulong _acknowledgeUpTo;
    private int _donePrefix;
    private int _outstanding;
    private bool _flushScheduled;

    public AckTracker(IChannel channel, int batch, TimeSpan interval)
    {
        _channel = channel;
        _batch = batch;
        _interval = interval;
    }

    /// <summary>Deliveries handed out and not settled yet.</summary>
    public int Outstanding => Volatile.Read(ref _outstanding);

    public bool IsOpen => _channel.IsOpen;

    /// <summary>Called for each delivery, in delivery-tag order.</summary>
    public void Track(ulong tag)
    {
        lock (_lock)
        {
            _byTag[tag] = _pending.AddLast(new Entry(tag));
            _outstanding++;
        }
    }

    public ValueTask AckAsync(ulong tag)
    {
        bool flushNow;
        lock (_lock)
        {
            if (!_byTag.TryGetValue(tag, out var node) || node.Value.Done) return ValueTask.CompletedTask;
            node.Value.Done = true;
            _outstanding--;
            AdvancePrefix();
            flushNow = _donePrefix >= _batch;
            if (!flushNow && _donePrefix > 0 && !_flushScheduled)
            {
                _flushScheduled = true;
                _ = FlushLaterAsync();
            }
        }

        return flushNow ? new ValueTask(FlushAsync()) : ValueTask.CompletedTask;
    }

    public ValueTask NackAsync(ulong tag) => SettleNegativelyAsync(tag, requeue: true);

    public ValueTask RejectAsync(ulong tag) => SettleNegativelyAsync(tag, requeue: false);

    private async ValueTask SettleNegativelyAsync(ulong tag, bool requeue)
    {
        LinkedListNode<Entry>? node;
        lock (_lock)
            if (!_byTag.TryGetValue(tag, out node) || node.Value.Done) return;

        // The nack goes out before the entry counts as done, so no multiple-ack can cover (and so ack) it first.
        if (_channel.IsOpen) await _channel.BasicNackAsync(tag, multiple: false, requeue: requeue).ConfigureAwait(false);
        lock (_lock)
        {
            node.Value.Done = true;
            node.Value.Released = true;
            _outstanding--;
            AdvancePrefix();
        }
    }

    /// <summary>Sends the pending multiple-ack now (shutdown drains call this before closing the channel).</summary>
    public async Task FlushAsync()
    {
        ulong upTo;
        lock (_lock)
        {
            _flushScheduled = false;
            if (_acknowledgeUpTo == 0) return;
            upTo = _acknowledgeUpTo;
            _acknowledgeUpTo = 0;
            _donePrefix = 0;
        }

        // A closed channel cannot take acks: its deliveries go back to the queue and are redelivered.
        if (_channel.IsOpen) await _channel.BasicAckAsync(upTo, multiple: true).ConfigureAwait(false);
    }

    private async Task FlushLaterAsync()
    {
        await Task.Delay(_interval).ConfigureAwait(false);
        try
        {
            await FlushAsync().ConfigureAwait(false);
        }
        catch (Exception) when (!_channel.IsOpen)
        {
            // The channel closed meanwhile; its unacknowledged deliveries will be redelivered.
        }
    }

    /// <summary>Moves settled deliveries from the head of the list into the next multiple-ack.</summary>
    private void AdvancePrefix()
    {
        while (_pending.First is { Value.Done: true } first)
        {
            _pending.RemoveFirst();
            _byTag.Remove(first.Value.Tag);
            if (first.Value.Released) continue;
            _acknowledgeUpTo = first.Value.Tag;
            _donePrefix++;
        }
    }

    private sealed class Entry(ulong tag)
    {
        public ulong Tag { get; } = tag;
        public bool Done { get; set; }
        public bool Released { get; set; }
    }
}
