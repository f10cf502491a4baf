using O2X.Host.Apis;
using O2X.Host.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddO2XNode();

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.MapIngestionApi();
app.MapOrdersApi();
app.MapAccountsApi();
app.Run();

/// <summary>Entry point; public so tests can host the node with WebApplicationFactory.</summary>
public partial class Program;
