namespace O2X.Actors.Hosting;

/// <summary>The product catalog orders are checked against (<c>O2X:Catalog</c>).</summary>
internal sealed class CatalogOptions
{
    public const string Section = "O2X:Catalog";

    public static readonly IReadOnlyList<string> DefaultProducts =
    [
        "INTERNET_100", "INTERNET_300", "INTERNET_500", "INTERNET_1000", "VOICE_BASIC", "VOICE_UNLIMITED",
        "IPTV_BASIC", "IPTV_PREMIUM", "MOBILE_5GB", "MOBILE_UNLIMITED", "STATIC_IP", "WIFI_EXTENDER",
    ];

    /// <summary>Product codes an order may use; <c>*</c> accepts any. Unset: <see cref="DefaultProducts"/>.</summary>
    public string[]? Products { get; set; }

    public IReadOnlyList<string> EffectiveProducts => Products is { Length: > 0 } ? Products : DefaultProducts;

    public IEnumerable<string> Validate()
    {
        foreach (var product in EffectiveProducts.Where(p => p != "*" && !Messaging.EntityIds.IsValid(p)))
            yield return $"{Section}:Products contains '{product}', which is not a valid product code ({Messaging.EntityIds.Rule}).";
    }
}
