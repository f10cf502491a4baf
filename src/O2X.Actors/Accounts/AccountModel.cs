namespace O2X.Actors.Accounts;

/// <summary>Seed §6.1 <c>billing_address</c> / <c>service_address</c>.</summary>
public sealed record PostalAddress(string? Street, string? City, string? State, string? PostalCode, string? Country);

/// <summary>
/// A payment method by reference only: O2X stores the processor's token, never a card number.
/// </summary>
public sealed record PaymentMethod(string Type, string Token, bool IsDefault);
