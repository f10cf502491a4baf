using O2X.Host.Apis;
using O2X.Host.Hosting;
using O2X.Host.Observability;

// Settings come from the application's own folder, whatever the working directory (data/ stays relative to it).
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddO2XNode();

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.MapIngestionApi();
app.MapOrdersApi();
app.MapAccountsApi();
app.MapOutboxApi();
app.MapDeadLettersApi();
app.MapMetricsApi();
app.MapClusterApi();
app.MapQueuesApi();
app.MapMediationApi();
app.MapBulkApi();
app.MapO2XHealth();
app.Run();

/// <summary>Entry point; public so tests can host the node with WebApplicationFactory.</summary>
public partial class Program;
