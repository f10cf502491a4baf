using System.Collections.Frozen;
using O2X.Actors.Messaging;

namespace O2X.Actors.Orders;

/// <summary>The products orders may reference; anything else is <c>INVALID_PRODUCT</c>.</summary>
public sealed class ProductCatalog
{
    private readonly FrozenSet<string> _products;
    private readonly bool _acceptAny;

    public ProductCatalog(IEnumerable<string> products)
    {
        var list = products.ToArray();
        _acceptAny = list.Contains("*");
        _products = list.Where(p => p != "*").ToFrozenSet(StringComparer.Ordinal);
    }

    public bool Contains(string productCode) => _acceptAny || _products.Contains(productCode);

    /// <summary>Throws <c>INVALID_PRODUCT</c> naming the first unknown product of the order.</summary>
    internal void Check(OrderDetails order)
    {
        for (var i = 0; i < order.Services.Length; i++)
        {
            var code = order.Services[i].ProductCode;
            if (!Contains(code))
                throw new NonRetryableException(ErrorCodes.InvalidProduct, $"services[{i}].product_code '{TextExcerpt.Of(code)}' is not in the product catalog.",
                    new Dictionary<string, string> { ["field"] = $"services[{i}].product_code" });
        }
    }
}
