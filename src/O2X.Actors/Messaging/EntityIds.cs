using System.Text.RegularExpressions;

namespace O2X.Actors.Messaging;

/// <summary>
/// What an entity id (order, account) may look like. Ids become persistence ids and URL segments, so
/// they are kept short and plain.
/// </summary>
internal static partial class EntityIds
{
    public const string Rule = "1-128 characters of letters, digits, '.', '_', ':' or '-', starting with a letter or digit";

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._:\\-]{0,127}\\z")]
    private static partial Regex Pattern();

    public static bool IsValid(string id) => Pattern().IsMatch(id);
}
