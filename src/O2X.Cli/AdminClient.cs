using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace O2X.Cli;

/// <summary>The exit codes of <c>o2x</c>, for scripts.</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The node answered, and said no (unknown id, conflict, invalid input).</summary>
    public const int Failed = 1;

    /// <summary>The command line itself is wrong.</summary>
    public const int Usage = 2;

    /// <summary>No node answered at the address (not running, wrong port, timeout).</summary>
    public const int Unreachable = 3;

    /// <summary>The node refused: admin endpoints need loopback or the right <c>--token</c>.</summary>
    public const int Unauthorized = 4;

    /// <summary>The node answered, and is not healthy / not Up.</summary>
    public const int Unhealthy = 5;
}

/// <summary>A failure with its exit code and a message meant for the operator.</summary>
public sealed class CliException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>HTTP to one node's admin API; every failure becomes a <see cref="CliException"/> with a clear message.</summary>
public sealed class AdminClient : IDisposable
{
    private readonly HttpClient _http;

    public AdminClient(Uri node, string? token, TimeSpan timeout)
    {
        Node = node;
        _http = new HttpClient { BaseAddress = node, Timeout = timeout };
        if (!string.IsNullOrEmpty(token)) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("o2x-cli/1.0");
    }

    public Uri Node { get; }

    public Task<JsonNode> GetAsync(string path, CancellationToken ct, params HttpStatusCode[] alsoOk) => SendAsync(HttpMethod.Get, path, null, ct, alsoOk);

    public Task<JsonNode> PostAsync(string path, CancellationToken ct, HttpContent? content = null) => SendAsync(HttpMethod.Post, path, content, ct);

    public Task<JsonNode> DeleteAsync(string path, CancellationToken ct) => SendAsync(HttpMethod.Delete, path, null, ct);

    public async Task<(HttpStatusCode Status, JsonNode Body)> GetWithStatusAsync(string path, CancellationToken ct)
    {
        using var response = await Send(new HttpRequestMessage(HttpMethod.Get, path), ct);
        return (response.StatusCode, await ReadAsync(response, ct));
    }

    /// <summary>Reads a server-sent event stream, one JSON object per event, until it ends or <paramref name="ct"/> fires.</summary>
    public async IAsyncEnumerable<JsonNode> StreamAsync(string path, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd("text/event-stream");
        using (var response = await Send(request, ct, HttpCompletionOption.ResponseHeadersRead))
        {
            if (!response.IsSuccessStatusCode) throw Refusal(response, $"{(int)response.StatusCode} {response.ReasonPhrase}");
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
            while (await reader.ReadLineAsync(ct) is { } line)
                if (line.StartsWith("data: ", StringComparison.Ordinal) && JsonNode.Parse(line[6..]) is { } node)
                    yield return node;
        }
    }

    private async Task<JsonNode> SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken ct, params HttpStatusCode[] alsoOk)
    {
        using var response = await Send(new HttpRequestMessage(method, path) { Content = content }, ct);
        var body = await ReadAsync(response, ct);
        if (response.IsSuccessStatusCode || alsoOk.Contains(response.StatusCode)) return body;
        var problem = body is JsonObject o && o["title"] is not null
            ? $"{o["title"]}: {o["detail"]}" + (o["error_code"] is { } code ? $" ({code})" : "")
            : $"{(int)response.StatusCode} {response.ReasonPhrase}";
        throw Refusal(response, problem);
    }

    private CliException Refusal(HttpResponseMessage response, string problem) =>
        response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
            ? new CliException(ExitCodes.Unauthorized, $"{Node} refused: {problem}. Pass --token (or set O2X_ADMIN_TOKEN) with the node's O2X:Admin:Token.")
            : new CliException(ExitCodes.Failed, problem);

    private async Task<HttpResponseMessage> Send(HttpRequestMessage request, CancellationToken ct,
        HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        try
        {
            return await _http.SendAsync(request, completion, ct);
        }
        catch (HttpRequestException ex) when (ex.InnerException is SocketException || ex.HttpRequestError == HttpRequestError.ConnectionError)
        {
            throw new CliException(ExitCodes.Unreachable, $"Cannot reach an O2X node at {Node} ({ex.Message}). Is it running, and is --node right?");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new CliException(ExitCodes.Unreachable, $"{Node} did not answer within {_http.Timeout.TotalSeconds:0} s.");
        }
    }

    private static async Task<JsonNode> ReadAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        if (text.Length == 0) return new JsonObject();
        try
        {
            return JsonNode.Parse(text) ?? new JsonObject();
        }
        catch (System.Text.Json.JsonException)
        {
            return JsonValue.Create(text);
        }
    }

    public static HttpContent Json(string body) => new StringContent(body, Encoding.UTF8, "application/json");

    public void Dispose() => _http.Dispose();
}
