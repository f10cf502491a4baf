using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using O2X.Testing;

namespace O2X.Host.Testing;

/// <summary>A whole O2X node in-process (real actor system, cluster of one, SQLite journal in a temp dir).</summary>
public sealed class O2XNodeFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;
    private readonly TempDirectory? _ownedData;
    private readonly System.Net.IPAddress? _callersAddress;

    private readonly bool _onAdminListener;
    private readonly CapturedLogs? _logs;

    /// <param name="callersAddress">Make every request look as if it came from this address (default: loopback).</param>
    /// <param name="onAdminListener">
    /// Make every request look as if it arrived on the admin listener (default) rather than the public one: an in-process test
    /// host has no listeners, so the node's admin checks are given what Kestrel would tell them.
    /// </param>
    public O2XNodeFactory(IDictionary<string, string?>? settings = null, string? sqlitePath = null, System.Net.IPAddress? callersAddress = null,
        bool onAdminListener = true, CapturedLogs? logs = null)
    {
        _logs = logs;
        _callersAddress = callersAddress ?? System.Net.IPAddress.Loopback;
        _onAdminListener = onAdminListener;
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
            // Tests write their CDR files to temporary directories; the product's default root is data/cdr.
            ["O2X:Usage:Files:Roots:0"] = Path.GetTempPath(),
            // Bill runs start by hand in tests (the schedule has tests of its own that turn it on).
            ["O2X:Billing:ScheduleEnabled"] = "false",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) _settings[key] = value;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings) builder.UseSetting(key, value);
        var adminUrl = _settings.TryGetValue("O2X:Admin:Url", out var url) && !string.IsNullOrEmpty(url) ? new Uri(url) : new Uri("http://127.0.0.1:9110");
        var local = _onAdminListener ? (System.Net.IPAddress.Loopback, adminUrl.Port) : (System.Net.IPAddress.Any, 5080);
        builder.ConfigureServices(services => services.AddSingleton<Microsoft.AspNetCore.Hosting.IStartupFilter>(new Connection(_callersAddress!, local)));
        if (_logs is { } logs) builder.ConfigureLogging(logging => logging.AddProvider(logs));
    }

    private sealed class Connection(System.Net.IPAddress remote, (System.Net.IPAddress Address, int Port) local) : Microsoft.AspNetCore.Hosting.IStartupFilter
    {
        public Action<Microsoft.AspNetCore.Builder.IApplicationBuilder> Configure(Action<Microsoft.AspNetCore.Builder.IApplicationBuilder> next) => app =>
        {
            app.Use(nextMiddleware => context =>
            {
                context.Connection.RemoteIpAddress = remote;
                context.Connection.LocalIpAddress = local.Address;
                context.Connection.LocalPort = local.Port;
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
