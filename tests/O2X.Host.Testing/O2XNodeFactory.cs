using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using O2X.Testing;

namespace O2X.Host.Testing;

/// <summary>A whole O2X node in-process (real actor system, cluster of one, SQLite journal in a temp dir).</summary>
public sealed class O2XNodeFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;
    private readonly TempDirectory? _ownedData;

    public O2XNodeFactory(IDictionary<string, string?>? settings = null, string? sqlitePath = null)
    {
        if (sqlitePath is null)
        {
            _ownedData = new TempDirectory();
            sqlitePath = _ownedData.File("o2x.db");
        }

        _settings = new Dictionary<string, string?>
        {
            ["O2X:Node:Port"] = "0",
            ["O2X:Persistence:SqlitePath"] = sqlitePath,
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) _settings[key] = value;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings) builder.UseSetting(key, value);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _ownedData?.Dispose();
    }
}
