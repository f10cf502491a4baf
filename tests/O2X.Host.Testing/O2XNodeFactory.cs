using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using O2X.Testing;

namespace O2X.Host.Testing;

/// <summary>A whole O2X node in-process (real actor system, cluster of one, SQLite journal in a temp dir).</summary>
public sealed class O2XNodeFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;
    private readonly TempDirectory? _ownedData;
    private readonly System.Net.IPAddress? _callersAddress;

    /// <param name="callersAddress">Make every request look as if it came from this address (default: in-process, like loopback).</param>
    public O2XNodeFactory(IDictionary<string, string?>? settings = null, string? sqlitePath = null, System.Net.IPAddress? callersAddress = null)
    {
        _callersAddress = callersAddress;
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
        if (_callersAddress is { } address)
            builder.ConfigureServices(services => services.AddSingleton<Microsoft.AspNetCore.Hosting.IStartupFilter>(new CallerAddress(address)));
    }

    private sealed class CallerAddress(System.Net.IPAddress address) : Microsoft.AspNetCore.Hosting.IStartupFilter
    {
        public Action<Microsoft.AspNetCore.Builder.IApplicationBuilder> Configure(Action<Microsoft.AspNetCore.Builder.IApplicationBuilder> next) => app =>
        {
            app.Use(nextMiddleware => context =>
            {
                context.Connection.RemoteIpAddress = address;
                return nextMiddleware(context);
            });
            next(app);
        };
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _ownedData?.Dispose();
    }
}
