using System.Globalization;
using System.Text.RegularExpressions;

namespace O2X.Bench;

/// <summary>Reads the node's Prometheus exposition (<c>GET /metrics</c>) for the benchmarks' side columns.</summary>
internal static class NodeMetrics
{
    /// <summary>
    /// The admin token the benchmarks give the nodes they start (<see cref="BenchStore.NodeEnvironment"/>); a node given with
    /// <c>--target</c> is read with <c>O2X_BENCH_ADMIN_TOKEN</c>, its own token.
    /// </summary>
    public static readonly string AdminToken = GivenToken ?? Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

    /// <summary>Whether the node's admin token was given (<c>O2X_BENCH_ADMIN_TOKEN</c>): a node started by hand can be read too.</summary>
    public static bool TokenGiven => GivenToken is not null;

    private static string? GivenToken => Environment.GetEnvironmentVariable("O2X_BENCH_ADMIN_TOKEN") is { Length: > 0 } given ? given : null;

    /// <summary>The node's <c>/metrics</c>, with the admin token.</summary>
    public static async Task<string> ScrapeAsync(HttpClient http, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "metrics");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminToken);
        using var response = await http.SendAsync(request, ct);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync(ct);
    }

    /// <summary>The sum of every sample whose line matches <paramref name="pattern"/> (its value as group 1); 0 if none.</summary>
    public static double Sum(string exposition, string pattern) =>
        Regex.Matches(exposition, pattern, RegexOptions.Multiline).Sum(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));

    /// <summary>The journal writer's counters (<c>o2x_journal_*</c>): what a run asked of its single writer.</summary>
    public sealed record Writer(double BusySeconds, double GroupCommits, double Requests, double[] PhaseSeconds)
    {
        public static readonly string[] Phases = ["queued", "gate", "statements", "commit"];

        public static Writer Parse(string exposition) => new(
            Sum(exposition, @"^o2x_journal_writer_busy_seconds_total (\S+)$"),
            Sum(exposition, @"^o2x_journal_group_commits_total\{result=""committed""\} (\S+)$"),
            Sum(exposition, @"^o2x_journal_requests_total (\S+)$"),
            [.. Phases.Select(p => Sum(exposition, $@"^o2x_journal_write_seconds_sum\{{phase=""{p}""\}} (\S+)$"))]);

        /// <summary>"17.4 × 1.1/0.2/0.9/1.4": requests per group commit × mean ms queued/gate/statements/commit, for a table cell.</summary>
        public string CompactSince(Writer earlier)
        {
            var commits = GroupCommits - earlier.GroupCommits;
            return commits <= 0 ? "—" : $"{(Requests - earlier.Requests) / commits:0.0} × {MeanMilliseconds(earlier, commits, "0.00")}";
        }

        /// <summary>The mean milliseconds per group commit of each phase since <paramref name="earlier"/>, "/"-separated.</summary>
        private string MeanMilliseconds(Writer earlier, double commits, string format) =>
            string.Join("/", PhaseSeconds.Zip(earlier.PhaseSeconds, (a, b) => ((a - b) / commits * 1000).ToString(format, CultureInfo.InvariantCulture)));

        /// <summary>"busy 93%: 310 group commits/s × 17.4 requests; mean ms queued/gate/statements/commit 1.1/0.2/0.9/1.4".</summary>
        public string Since(Writer earlier, TimeSpan elapsed)
        {
            var commits = GroupCommits - earlier.GroupCommits;
            if (commits <= 0) return "—";
            return $"busy {(BusySeconds - earlier.BusySeconds) / elapsed.TotalSeconds * 100:0}%: {commits / elapsed.TotalSeconds:N0} group commits/s × " +
                   $"{(Requests - earlier.Requests) / commits:0.0} requests; mean ms queued/gate/statements/commit {MeanMilliseconds(earlier, commits, "0.0")}";
        }
    }
}
