using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using O2X.Actors.Accounts;
using O2X.Actors.Messaging;
using static O2X.Actors.Messaging.JsonMessageReader;

namespace O2X.Actors.Bulk;

/// <summary>One payload item: the account it acts on and the operation, or why it cannot be done (it then fails on its own).</summary>
internal sealed record BulkItem(int Index, string? AccountId, BulkOperation? Operation, string? ErrorCode, string? Error);

/// <summary>A BULK message: part of a job, its items numbered from <see cref="Offset"/> within the job.</summary>
internal sealed record BulkMessage(BulkJobDefinition Job, int Offset, IReadOnlyList<BulkItem> Items);

/// <summary>
/// The BULK message (seed §6.5, verbatim: <c>id, api_name, payloads, total_count, created_by, created_date, callback_url</c>;
/// the seed §4.3 spellings <c>apiName</c>, <c>createdBy</c>, <c>invoiceId</c>… are read too). O2X adds <c>offset</c>: where
/// this message's items start within a job split over several messages (0 when absent). A message is refused as a whole
/// (NonRetryable) for an unknown <c>api_name</c>, no payloads or more than 100; a malformed item fails on its own, its
/// field named by the item's place in the job (<c>payloads[{offset + i}]</c>).
/// </summary>
internal static partial class BulkMessages
{
    public const int MaxItemsPerMessage = 100;

    /// <summary>The most items <c>POST /api/bulk</c> takes in one request.</summary>
    public const int MaxItemsPerJob = 10_000;

    [GeneratedRegex("^INV-(?<account>.+)-[0-9]{4,9}\\z")]
    private static partial Regex InvoiceNumberPattern();

    public static BulkMessage Parse(ReadOnlyMemory<byte> body)
    {
        using var document = ParseObject(body);
        var root = document.RootElement;
        var jobId = RequiredId(root, "id", "");
        var api = ApiName(root);
        var payloads = Payloads(root);
        var count = payloads.GetArrayLength();
        if (count > MaxItemsPerMessage)
            throw new NonRetryableException(ErrorCodes.TooManyPayloads,
                $"A BULK message carries at most {MaxItemsPerMessage} payload items (this one has {count}); split the job over several messages.");
        var offset = OptionalInt(root, "offset") ?? 0;
        var total = OptionalInt(root, "total_count", "totalCount") ?? offset + count;
        if (total < offset + count) throw Invalid("total_count", $"is {total}, but this message holds items {offset + 1}-{offset + count}");

        var job = Job(root, jobId, api, total);
        var items = payloads.EnumerateArray().Select((item, i) => Item(api, item, offset + i, $"payloads[{offset + i}]")).ToList();
        return new BulkMessage(job, offset, items);
    }

    /// <summary>
    /// Splits a job into messages of at most 100 items, each a BULK message with the job's <c>id</c>, <c>total_count</c> and
    /// its <c>offset</c>. The message ids are <c>{id}#{n}</c> (n from 1), the same every time the job is split.
    /// </summary>
    public static IReadOnlyList<(string MessageId, JsonObject Body)> Split(BulkJobDefinition job, JsonArray payloads)
    {
        var messages = new List<(string, JsonObject)>();
        for (var offset = 0; offset < payloads.Count; offset += MaxItemsPerMessage)
        {
            var chunk = payloads.Skip(offset).Take(MaxItemsPerMessage).Select(p => p?.DeepClone()).ToArray();
            var body = new JsonObject
            {
                ["id"] = job.JobId,
                ["api_name"] = BulkApiNames.WireName(job.Api),
                ["payloads"] = new JsonArray(chunk),
                ["total_count"] = job.TotalCount,
                ["offset"] = offset,
                ["created_by"] = job.CreatedBy,
                ["created_date"] = job.CreatedDate?.ToString("O", CultureInfo.InvariantCulture),
                ["callback_url"] = job.CallbackUrl,
            };
            messages.Add(($"{job.JobId}#{offset / MaxItemsPerMessage + 1}", body));
        }

        return messages;
    }

    /// <summary>The job a message or a <c>POST /api/bulk</c> request describes: who created it, when, where to report.</summary>
    public static BulkJobDefinition Job(JsonElement root, string jobId, BulkApiName api, int totalCount) =>
        new(jobId, api, totalCount, Text(root, "created_by", "createdBy") ?? Text(root, "initiated_by", "initiated_by"),
            Timestamp(root, "created_date", "submission_timestamp"), Text(root, "callback_url", "callbackUrl"));

    public static BulkApiName ApiName(JsonElement root)
    {
        var name = Text(root, "api_name", "apiName") ?? throw Missing("api_name");
        return BulkApiNames.TryParse(name, out var api)
            ? api
            : throw new NonRetryableException(ErrorCodes.UnknownApiName,
                $"api_name '{Truncate(name)}' is not a bulk operation; expected one of {string.Join(", ", BulkApiNames.All)}.");
    }

    public static JsonElement Payloads(JsonElement root)
    {
        if (!root.TryGetProperty("payloads", out var payloads) || payloads.ValueKind == JsonValueKind.Null)
            throw new NonRetryableException(ErrorCodes.EmptyPayloads, "A BULK message needs at least one payload item ('payloads' is missing).");
        if (payloads.ValueKind != JsonValueKind.Array) throw Invalid("payloads", "must be an array");
        if (payloads.GetArrayLength() == 0)
            throw new NonRetryableException(ErrorCodes.EmptyPayloads, "A BULK message needs at least one payload item ('payloads' is empty).");
        return payloads;
    }

    private static BulkItem Item(BulkApiName api, JsonElement item, int index, string path)
    {
        try
        {
            if (item.ValueKind != JsonValueKind.Object) throw Invalid(path, "must be an object");
            var (account, operation) = Operation(api, item, path);
            return new BulkItem(index, account, operation, null, null);
        }
        catch (NonRetryableException ex)
        {
            string? account = null;
            if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("account_id", out var a) && a.ValueKind == JsonValueKind.String)
                account = Truncate(a.GetString()!);
            return new BulkItem(index, account, null, ex.ErrorCode, ex.Message);
        }
    }

    private static (string Account, BulkOperation Operation) Operation(BulkApiName api, JsonElement item, string path)
    {
        string Id(string name, string alias) => Identifier(item, path, name, alias) ?? throw Missing(Join(path, name));
        string Reason() => Text(item, "reason", "reason", path) ?? throw Missing(Join(path, "reason"));
        decimal Positive() => Amount(item, path) is var a and > 0 ? a : throw Invalid(Join(path, "amount"), "must be more than 0");
        string Currency() => CurrencyOf(item, path) ?? throw Missing(Join(path, "currency"));

        var invoice = Identifier(item, path, "invoice_id", "invoiceId");
        var account = Identifier(item, path, "account_id", "accountId")
            ?? (invoice is not null && InvoiceNumberPattern().Match(invoice) is { Success: true } m && EntityIds.IsValid(m.Groups["account"].Value)
                ? m.Groups["account"].Value
                : null)
            ?? throw Missing(Join(path, "account_id"));
        var reason = Text(item, "reason", "reason", path);
        var operation = api switch
        {
            BulkApiName.ResendInvoiceToVendor => new BulkOperation(api, Id("invoice_id", "invoiceId"), null, null, null, reason,
                Text(item, "vendor", "vendor_id", path)),
            BulkApiName.RegenerateInvoice or BulkApiName.CancelInvoice => new BulkOperation(api, Id("invoice_id", "invoiceId"), null, null, null, Reason(), null),
            BulkApiName.AllocatePayment => new BulkOperation(api, invoice, Id("payment_id", "paymentId"), Positive(), Currency(), reason, null),
            BulkApiName.ProcessBankFile => new BulkOperation(api, invoice, Id("bank_reference", "bankReference"), Positive(), Currency(), reason, null),
            BulkApiName.ReversePayment => new BulkOperation(api, null, Id("payment_id", "paymentId"), null, null, Reason(), null),
            BulkApiName.CreateCreditNote => new BulkOperation(api, Id("invoice_id", "invoiceId"), Identifier(item, path, "credit_note_id", "creditNoteId"),
                Positive(), CurrencyOf(item, path), Reason(), null),
            BulkApiName.CreateDebitNote => new BulkOperation(api, Id("invoice_id", "invoiceId"), Identifier(item, path, "debit_note_id", "debitNoteId"),
                Positive(), CurrencyOf(item, path), Reason(), null),
            BulkApiName.CreateAdjustment => new BulkOperation(api, null, Identifier(item, path, "adjustment_id", "adjustmentId"),
                Amount(item, path) is var a and not 0 ? a : throw Invalid(Join(path, "amount"), "must not be 0"), Currency(), Reason(), null),
            BulkApiName.ReverseAdjustment => new BulkOperation(api, null, Id("adjustment_id", "adjustmentId"), null, null, Reason(), null),
            _ => throw new ArgumentOutOfRangeException(nameof(api), api, null),
        };
        return (account, operation);
    }

    /// <summary>An item's amount, bounded and scaled to its currency (2 decimals when it names none): <see cref="Money"/>.</summary>
    private static decimal Amount(JsonElement item, string path) =>
        Money.OptionalAmount(item, "amount", path, CurrencyOf(item, path), allowNegative: true) ?? throw Missing(Join(path, "amount"));

    private static string? CurrencyOf(JsonElement item, string path)
    {
        var currency = Text(item, "currency", "currency", path);
        if (currency is not null && !Iso4217.IsKnown(currency)) throw Invalid(Join(path, "currency"), "must be an ISO 4217 currency code");
        return currency;
    }

    private static string? Identifier(JsonElement item, string path, string name, string alias)
    {
        var field = item.TryGetProperty(name, out _) || !item.TryGetProperty(alias, out _) ? name : alias;
        return OptionalId(item, field, path);
    }

    private static string? Text(JsonElement parent, string name, string alias, string path = "")
    {
        var field = parent.TryGetProperty(name, out _) || !parent.TryGetProperty(alias, out _) ? name : alias;
        var text = OptionalString(parent, field, path);
        return text is { Length: > 1024 } ? throw Invalid(Join(path, field), "must be at most 1024 characters") : text;
    }

    private static int? OptionalInt(JsonElement root, string name, string? alias = null)
    {
        var field = root.TryGetProperty(name, out _) || alias is null || !root.TryGetProperty(alias, out _) ? name : alias;
        if (!root.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) && n >= 0 ? n : throw Invalid(field, "must be a whole number ≥ 0");
    }

    private static DateTimeOffset? Timestamp(JsonElement root, string name, string alias)
    {
        var text = Text(root, name, alias);
        if (text is null) return null;
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at
            : throw Invalid(root.TryGetProperty(name, out _) ? name : alias, "must be an ISO 8601 timestamp");
    }

    private static string Truncate(string text) => text.Length <= 64 ? text : text[..64] + "…";
}
