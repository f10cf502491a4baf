using O2X.Host.Apis;
using O2X.Host.Hosting;
using O2X.Host.Observability;

// Settings come from the application's own folder, whatever the working directory (data/ stays relative to it).
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddO2XNode();

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();
// The web console (wwwroot/: plain HTML, CSS and JavaScript, no build step) at /. Scripts only from the node itself.
app.Use((context, next) =>
{
    context.Response.Headers.ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'";
    context.Response.Headers.XContentTypeOptions = "nosniff";
    return next(context);
});
app.UseDefaultFiles();
app.UseStaticFiles();
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
app.MapBillingApi();
app.MapO2XHealth();
app.Run();

/// <summary>Entry point; public so tests can host the node with WebApplicationFactory.</summary>
public partial class Program;
