using Akka.Streams;
using Akka.Streams.Stage;
using O2X.Streams.Connectors;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace O2X.Streams.Amqp;

/// <summary>Controls a running consumer: the connection state, and a graceful stop.</summary>
public interface IConsumerControl
{
    ConnectionStatus Status { get; }

    /// <summary>
    /// Graceful drain: stop taking new messages, let those already emitted be settled, acknowledge them, then
    /// close. Completes when the source has stopped.
    /// </summary>
    Task StopAsync();
}

/// <summary>
/// The committable AMQP 0-9-1 source (see <see cref="Dsl.AmqpSource.Committable"/> for its guarantees).
/// </summary>
internal sealed class AmqpSourceStage(AmqpSourceSettings settings)
    : GraphStageWithMaterializedValue<SourceShape<Committable<AmqpMessage>>, IConsumerControl>
{
    private readonly Outlet<Committable<AmqpMessage>> _out = new("AmqpSource.out");

    public override SourceShape<Committable<AmqpMessage>> Shape => new(_out);

    protected override Attributes InitialAttributes => Attributes.CreateName("amqpSource");

    public override ILogicAndMaterializedValue<IConsumerControl> CreateLogicAndMaterializedValue(Attributes inheritedAttributes)
    {
        var logic = new Logic(this, settings);
        return new LogicAndMaterializedValue<IConsumerControl>(logic, logic);
    }

    private sealed class Logic : TimerGraphStageLogic, IConsumerControl
    {
        private readonly AmqpSourceStage _stage;
        private readonly AmqpSourceSettings _settings;
        private readonly Queue<Committable<AmqpMessage>> _buffer = new();
        private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private Action<(int Generation, IConnection Connection, IChannel Channel)> _onConnected = null!;
        private Action<(int Generation, Exception Error)> _onConnectFailed = null!;
        private Action<(int Generation, AmqpMessage Message, ulong Tag)> _onDelivery = null!;
        private Action<(int Generation, string Reason)> _onShutdown = null!;
        private Action _onStopRequested = null!;
        private Action _onSettled = null!;
        private int _generation;
        private int _reconnectAttempt;
        private IConnection? _connection;
        private IChannel? _channel;
        private AckTracker? _acks;
        private bool _stopping;

        public Logic(AmqpSourceStage stage, AmqpSourceSettings settings) : base(stage.Shape)
        {
            _stage = stage;
            _settings = settings;
            Status = new ConnectionStatus("amqp:" + settings.Queue);
            SetHandler(stage._out, onPull: () =>
            {
                if (_buffer.Count > 0) Push(_stage._out, _buffer.Dequeue());
            }, onDownstreamFinish: _ =>
            {
                _stopping = true;
                CloseAndComplete();
            });
        }

        public ConnectionStatus Status { get; }

        public Task StopAsync()
        {
            _onStopRequested();
            return _stopped.Task;
        }

        public override void PreStart()
        {
            _onConnected = GetAsyncCallback<(int, IConnection, IChannel)>(OnConnected);
            _onConnectFailed = GetAsyncCallback<(int, Exception)>(OnConnectFailed);
            _onDelivery = GetAsyncCallback<(int, AmqpMessage, ulong)>(OnDelivery);
            _onShutdown = GetAsyncCallback<(int, string)>(OnShutdown);
            _onStopRequested = GetAsyncCallback(OnStopRequested);
            _onSettled = GetAsyncCallback(CompleteIfDrained);
            Connect();
        }

        public override void PostStop()
        {
            Status.Set(ConnectionState.Stopped);
            _ = CloseAsync(_connection, _channel, _acks);
            _stopped.TrySetResult();
        }

        protected override void OnTimer(object timerKey) => Connect();

        private void Connect()
        {
            var generation = ++_generation;
            Status.Set(_reconnectAttempt == 0 ? ConnectionState.Connecting : ConnectionState.Reconnecting);
            _ = ConnectAsync(generation);
        }

        private async Task ConnectAsync(int generation)
        {
            IConnection? connection = null;
            try
            {
                connection = await _settings.Connection.CreateFactory().CreateConnectionAsync(_settings.Connection.ClientName).ConfigureAwait(false);
                var channel = await connection.CreateChannelAsync().ConfigureAwait(false);
                await _settings.Topology.DeclareAsync(channel, CancellationToken.None).ConfigureAwait(false);
                await channel.BasicQosAsync(0, _settings.Prefetch, false).ConfigureAwait(false);
                connection.ConnectionShutdownAsync += (_, e) =>
                {
                    _onShutdown((generation, e.ReplyText));
                    return Task.CompletedTask;
                };
                channel.ChannelShutdownAsync += (_, e) =>
                {
                    _onShutdown((generation, e.ReplyText));
                    return Task.CompletedTask;
                };
                var consumer = new AsyncEventingBasicConsumer(channel);
                consumer.ReceivedAsync += (_, delivery) =>
                {
                    _onDelivery((generation, ToMessage(delivery), delivery.DeliveryTag));
                    return Task.CompletedTask;
                };
                // Registered before consuming, so no delivery can arrive before the stage knows the channel.
                _onConnected((generation, connection, channel));
                await channel.BasicConsumeAsync(_settings.Queue, autoAck: false, consumer).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                if (connection is not null) await DisposeQuietlyAsync(connection).ConfigureAwait(false);
                _onConnectFailed((generation, ex));
            }
        }

        private void OnConnected((int Generation, IConnection Connection, IChannel Channel) connected)
        {
            if (connected.Generation != _generation || _stopping)
            {
                _ = CloseAsync(connected.Connection, connected.Channel, null);
                return;
            }

            _connection = connected.Connection;
            _channel = connected.Channel;
            _acks = new AckTracker(connected.Channel, _settings.AckBatch, _settings.AckInterval);
            _reconnectAttempt = 0;
            Status.Set(ConnectionState.Connected);
        }

        private void OnConnectFailed((int Generation, Exception Error) failed)
        {
            if (failed.Generation != _generation) return;
            ForgetChannel();
            ScheduleReconnect(failed.Error.Message);
        }

        private void OnDelivery((int Generation, AmqpMessage Message, ulong Tag) delivery)
        {
            // A delivery of an old channel cannot be acknowledged any more: the broker redelivers it.
            if (delivery.Generation != _generation || _acks is null || _stopping) return;
            var acks = _acks;
            acks.Track(delivery.Tag);
            var committable = new Committable<AmqpMessage>(delivery.Message, new Handle(acks, delivery.Tag, this));
            if (IsAvailable(_stage._out) && _buffer.Count == 0) Push(_stage._out, committable);
            else _buffer.Enqueue(committable);
        }

        private void OnShutdown((int Generation, string Reason) shutdown)
        {
            if (shutdown.Generation != _generation || _channel is null) return;
            var (connection, channel, acks) = (_connection, _channel, _acks);
            ForgetChannel();
            _ = CloseAsync(connection, channel, acks);
            if (_stopping)
            {
                CompleteStage();
                return;
            }

            ScheduleReconnect(shutdown.Reason);
        }

        private void ForgetChannel()
        {
            // Buffered deliveries of the lost channel were never emitted; the broker redelivers them.
            _buffer.Clear();
            _connection = null;
            _channel = null;
            _acks = null;
        }

        private void ScheduleReconnect(string reason)
        {
            if (_stopping)
            {
                CompleteStage();
                return;
            }

            _reconnectAttempt++;
            Status.Set(ConnectionState.Reconnecting, reason);
            ScheduleOnce("reconnect", _settings.Connection.Reconnect.Delay(_reconnectAttempt));
        }

        private void OnStopRequested()
        {
            if (_stopping) return;
            _stopping = true;
            CancelTimer("reconnect");
            // Received but never emitted: hand them back now rather than at close.
            while (_buffer.TryDequeue(out var unsent)) _ = unsent.Handle.ReleaseAsync();
            if (_channel is null) CompleteStage();
            else CompleteIfDrained();
        }

        /// <summary>Called when a handle settled: once stopping and nothing is outstanding, flush the acks and close.</summary>
        private void CompleteIfDrained()
        {
            if (!_stopping || _acks is { Outstanding: > 0 }) return;
            CloseAndComplete();
        }

        private void CloseAndComplete()
        {
            var (connection, channel, acks) = (_connection, _channel, _acks);
            ForgetChannel();
            _ = CloseAsync(connection, channel, acks);
            CompleteStage();
        }

        private static async Task CloseAsync(IConnection? connection, IChannel? channel, AckTracker? acks)
        {
            try
            {
                if (acks is not null) await acks.FlushAsync().ConfigureAwait(false);
            }
            catch (Exception) when (channel is not { IsOpen: true })
            {
                // Already closed: the unacknowledged deliveries are redelivered.
            }

            if (channel is not null) await DisposeQuietlyAsync(channel).ConfigureAwait(false);
            if (connection is not null) await DisposeQuietlyAsync(connection).ConfigureAwait(false);
        }

        private static async Task DisposeQuietlyAsync(IAsyncDisposable disposable)
        {
            try
            {
                await disposable.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ObjectDisposedException or RabbitMQ.Client.Exceptions.AlreadyClosedException or IOException
                                           or OperationCanceledException)
            {
                // Closing something already closed by the broker or the network.
            }
        }

        private static AmqpMessage ToMessage(BasicDeliverEventArgs delivery)
        {
            var p = delivery.BasicProperties;
            Dictionary<string, string>? headers = null;
            if (p.Headers is { Count: > 0 })
            {
                headers = new Dictionary<string, string>(p.Headers.Count);
                foreach (var (key, value) in p.Headers)
                {
                    var text = value switch
                    {
                        byte[] bytes => System.Text.Encoding.UTF8.GetString(bytes),
                        null => null,
                        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture),
                    };
                    if (text is not null) headers[key] = text;
                }
            }

            // The body memory belongs to the client only during this callback: copy it.
            return new AmqpMessage(delivery.Body.ToArray(), p.MessageId, p.CorrelationId, headers, p.ContentType, delivery.Redelivered,
                delivery.Exchange, delivery.RoutingKey);
        }

        private sealed class Handle(AckTracker acks, ulong tag, Logic logic) : ICommitHandle
        {
            public async ValueTask CommitAsync(CancellationToken cancellation = default)
            {
                await acks.AckAsync(tag).ConfigureAwait(false);
                logic._onSettled();
            }

            public async ValueTask ReleaseAsync(CancellationToken cancellation = default)
            {
                await acks.NackAsync(tag).ConfigureAwait(false);
                logic._onSettled();
            }
        }
    }
}
