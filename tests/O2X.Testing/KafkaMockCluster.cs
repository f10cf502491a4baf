using System.Runtime.InteropServices;
using System.Text;
using O2X.Streams.Kafka;

namespace O2X.Testing;

/// <summary>
/// librdkafka's built-in mock cluster: a real implementation of the Kafka protocol (produce, fetch,
/// consumer groups, offset commits) listening on loopback ports, so Kafka code is tested against the
/// protocol rather than a mock of our own. Any Kafka client can use <see cref="BootstrapServers"/>.
/// </summary>
public sealed unsafe class KafkaMockCluster : IDisposable
{
    private const int ProducerType = 0; // RD_KAFKA_PRODUCER

    private readonly IntPtr _handle;
    private readonly IntPtr _cluster;
    private readonly delegate* unmanaged<IntPtr, byte*, int, int, int> _topicCreate;
    private int _disposed;

    public KafkaMockCluster(int brokers = 3)
    {
        var lib = Librdkafka.Handle;
        var confNew = (delegate* unmanaged<IntPtr>)NativeLibrary.GetExport(lib, "rd_kafka_conf_new");
        var kafkaNew = (delegate* unmanaged<int, IntPtr, byte*, nuint, IntPtr>)NativeLibrary.GetExport(lib, "rd_kafka_new");
        var clusterNew = (delegate* unmanaged<IntPtr, int, IntPtr>)NativeLibrary.GetExport(lib, "rd_kafka_mock_cluster_new");
        var bootstraps = (delegate* unmanaged<IntPtr, IntPtr>)NativeLibrary.GetExport(lib, "rd_kafka_mock_cluster_bootstraps");
        _topicCreate = (delegate* unmanaged<IntPtr, byte*, int, int, int>)NativeLibrary.GetExport(lib, "rd_kafka_mock_topic_create");

        var error = stackalloc byte[512];
        _handle = kafkaNew(ProducerType, confNew(), error, 512);
        if (_handle == IntPtr.Zero)
            throw new InvalidOperationException("rd_kafka_new failed: " + Marshal.PtrToStringUTF8((IntPtr)error));
        _cluster = clusterNew(_handle, brokers);
        if (_cluster == IntPtr.Zero) throw new InvalidOperationException("rd_kafka_mock_cluster_new failed");
        BootstrapServers = Marshal.PtrToStringUTF8(bootstraps(_cluster))!;
    }

    /// <summary><c>127.0.0.1:p1,127.0.0.1:p2,…</c></summary>
    public string BootstrapServers { get; }

    /// <summary>Creates a topic with the given partitions (otherwise topics are auto-created with 4).</summary>
    public void CreateTopic(string topic, int partitions, int replicationFactor = 1)
    {
        var name = Encoding.UTF8.GetBytes(topic + "\0");
        fixed (byte* p = name)
        {
            var result = _topicCreate(_cluster, p, partitions, replicationFactor);
            if (result != 0) throw new InvalidOperationException($"rd_kafka_mock_topic_create({topic}) failed with error {result}");
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        var lib = Librdkafka.Handle;
        var clusterDestroy = (delegate* unmanaged<IntPtr, void>)NativeLibrary.GetExport(lib, "rd_kafka_mock_cluster_destroy");
        var destroy = (delegate* unmanaged<IntPtr, void>)NativeLibrary.GetExport(lib, "rd_kafka_destroy");
        clusterDestroy(_cluster);
        destroy(_handle);
    }
}
