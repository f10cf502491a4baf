namespace O2X.Bench;

/// <summary>Collects latencies (ms) from many threads and reports percentiles.</summary>
internal sealed class Latencies
{
    private readonly List<double> _values = new(100_000);

    public void Add(double milliseconds)
    {
        lock (_values) _values.Add(milliseconds);
    }

    public double Percentile(double p)
    {
        lock (_values)
        {
            if (_values.Count == 0) return double.NaN;
            _values.Sort();
            var index = (int)Math.Ceiling(p / 100.0 * _values.Count) - 1;
            return _values[Math.Clamp(index, 0, _values.Count - 1)];
        }
    }
}
