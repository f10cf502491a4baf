using System.Globalization;

namespace O2X.Bench;

/// <summary>
/// Where the machine's cores went over a measured interval (Linux <c>/proc</c>): how much of them was idle, and how much the
/// local PostgreSQL server's processes used. The node, its database server and the load generator share this machine's
/// cores, so a run's throughput is read against all three (docs/benchmarks.md, twentieth pass).
/// </summary>
internal sealed class MachineCpu
{
    private readonly (long Idle, long Total) _start = ReadStat();
    private readonly Dictionary<int, long> _postgresAtStart = PostgresTicks();

    public static MachineCpu Start() => new();

    /// <summary>Shares of all cores since <see cref="Start"/>: idle (idle and waiting for I/O), and PostgreSQL's processes.</summary>
    public (double IdlePercent, double PostgresPercent) Stop()
    {
        var (idle, total) = ReadStat();
        var elapsed = total - _start.Total;
        if (elapsed <= 0) return (double.NaN, double.NaN);
        // A backend that started during the interval counts from 0; one that ended is missed (the node's pool keeps its connections).
        var postgres = PostgresTicks().Sum(p => p.Value - _postgresAtStart.GetValueOrDefault(p.Key));
        return (100.0 * (idle - _start.Idle) / elapsed, 100.0 * postgres / elapsed);
    }

    /// <summary>The first line of <c>/proc/stat</c>: every core's ticks, summed; idle is idle plus iowait.</summary>
    private static (long Idle, long Total) ReadStat()
    {
        if (!File.Exists("/proc/stat")) return (0, 0);
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        long total = 0;
        for (var i = 1; i < fields.Length && i <= 8; i++) total += long.Parse(fields[i], CultureInfo.InvariantCulture);
        return (long.Parse(fields[4], CultureInfo.InvariantCulture) + long.Parse(fields[5], CultureInfo.InvariantCulture), total);
    }

    /// <summary>User and system ticks of every process named <c>postgres</c>, by pid (the same unit as <c>/proc/stat</c>).</summary>
    private static Dictionary<int, long> PostgresTicks()
    {
        var ticks = new Dictionary<int, long>();
        if (!Directory.Exists("/proc")) return ticks;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                // "pid (comm) state ...": the name may hold spaces, so fields are counted after its closing parenthesis.
                var open = stat.IndexOf('(');
                var close = stat.LastIndexOf(')');
                if (open < 0 || close < open || stat[(open + 1)..close] != "postgres") continue;
                var rest = stat[(close + 2)..].Split(' ');
                ticks[pid] = long.Parse(rest[11], CultureInfo.InvariantCulture) + long.Parse(rest[12], CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                // The process ended while it was being read: it no longer uses the cores.
            }
            catch (UnauthorizedAccessException)
            {
                // Not ours to read: counted as not PostgreSQL's.
            }
        }

        return ticks;
    }

    /// <summary>For the table: the generator's, the database server's (PostgreSQL only) and the idle share.</summary>
    public static string Format(double generatorPercent, (double IdlePercent, double PostgresPercent) machine, bool postgres) =>
        double.IsNaN(machine.IdlePercent)
            ? $"generator {generatorPercent:0}%"
            : postgres
                ? $"generator {generatorPercent:0}%, PostgreSQL {machine.PostgresPercent:0}%, idle {machine.IdlePercent:0}%"
                : $"generator {generatorPercent:0}%, idle {machine.IdlePercent:0}%";
}
