using System.Diagnostics;

namespace O2X.Bench;

/// <summary>
/// CPU and peak memory of a process over a measured interval: CPU as a share of the machine's cores (100% = all busy),
/// peak resident memory (VmHWM, the process's high-water mark since it started).
/// </summary>
internal sealed class Resources
{
    private readonly Process _process;
    private readonly TimeSpan _cpuAtStart;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private Resources(Process process)
    {
        _process = process;
        _process.Refresh();
        _cpuAtStart = _process.TotalProcessorTime;
    }

    public static Resources Of(Process process) => new(process);

    public static Resources OfThisProcess() => new(Process.GetCurrentProcess());

    public (double CpuPercent, double PeakMiB) Stop()
    {
        _process.Refresh();
        var cpu = (_process.TotalProcessorTime - _cpuAtStart).TotalSeconds / _clock.Elapsed.TotalSeconds / Environment.ProcessorCount * 100;
        return (cpu, _process.PeakWorkingSet64 / 1048576.0);
    }

    public static string Format((double CpuPercent, double PeakMiB) r) => $"{r.CpuPercent:0}% | {r.PeakMiB:N0} MiB";
}
