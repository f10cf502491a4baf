using System.Globalization;
using O2X.Actors.Accounts;
using PdfSharp.Drawing;
using PdfSharp.Fonts;
using PdfSharp.Pdf;

namespace O2X.Actors.Invoicing;

/// <summary>
/// Renders an invoice as a PDF (PDFsharp, A4, text a reader can search and copy): number, revision, account, dates, the
/// billing period and contact of a cycle invoice, one row per line (description, quantity, unit price, amount), subtotal,
/// tax and total, and for a cycle invoice its summary — previous balance, payments, the activity since the previous cycle and
/// the amount due. Pages break as the lines need. The fonts are PDFsharp's own (no system fonts needed on a server).
/// </summary>
internal static class InvoicePdf
{
    private const double Margin = 50;
    private const double LineHeight = 15;

    static InvoicePdf()
    {
        // Once per process; another resolver set first (an embedding application's) is kept.
        if (GlobalFontSettings.FontResolver is null) GlobalFontSettings.FontResolver = new BundledFonts();
    }

    public static byte[] Render(Invoice invoice, PostalAddress? billingAddress = null)
    {
        using var document = new PdfDocument();
        document.Info.Title = $"Invoice {invoice.InvoiceNumber}";
        document.Info.Subject = $"Account {invoice.AccountId}";
        document.Info.Creator = "O2X";
        var writer = new PageWriter(document);
        var c = CultureInfo.InvariantCulture;
        string Money(decimal amount) => amount.ToString("#,##0.00", c) + " " + invoice.Currency;

        writer.Title($"Invoice {invoice.InvoiceNumber}" + (invoice.Revision > 0 ? $" (revision {invoice.Revision})" : ""));
        writer.Text($"Account: {invoice.AccountId}");
        writer.Text($"Issued: {invoice.IssuedAt.UtcDateTime:yyyy-MM-dd}    Due: {invoice.DueDate:yyyy-MM-dd}");
        if (invoice.Cycle is { } cycle)
        {
            writer.Text($"Billing period: {cycle.Start:yyyy-MM-dd} to {cycle.End.AddDays(-1):yyyy-MM-dd} ({cycle.Period})");
            if (cycle.BillingEmail is { } email) writer.Text($"Billing contact: {email}");
        }
        else
        {
            writer.Text($"Order: {invoice.OrderId}");
        }

        if (billingAddress is { } a)
            writer.Text("Bill to: " + string.Join(", ", new[] { a.Street, a.City, a.State, a.PostalCode, a.Country }.Where(p => !string.IsNullOrWhiteSpace(p))));
        if (invoice.Status == InvoiceStatus.Cancelled) writer.Title("CANCELLED");

        writer.Gap();
        writer.Row("Description", "Quantity", "Unit price", "Amount", bold: true);
        foreach (var group in invoice.Lines.GroupBy(l => Group(l.Kind)))
        {
            writer.Heading(group.Key);
            foreach (var line in group)
                writer.Row(line.Description, line.Quantity.ToString("#,##0", c), line.UnitPrice.ToString("0.####", c), Money(line.Amount));
        }

        writer.Gap();
        writer.Row("Subtotal", "", "", Money(invoice.Subtotal), bold: true);
        writer.Row("Tax", "", "", Money(invoice.Tax));
        writer.Row("Total", "", "", Money(invoice.Total), bold: true);
        if (invoice.Cycle is { } summary)
        {
            writer.Gap();
            writer.Heading("Account summary");
            writer.Row("Previous balance", "", "", Money(summary.PreviousBalance));
            writer.Row("Payments received", "", "", Money(-summary.PaymentsReceived));
            foreach (var line in summary.Activity) writer.Row(line.Description, "", "", Money(line.Amount));
            writer.Row("This invoice", "", "", Money(invoice.Total));
            writer.Row("Amount due", "", "", Money(summary.AmountDue), bold: true);
        }

        using var stream = new MemoryStream();
        document.Save(stream, closeStream: false);
        return stream.ToArray();
    }

    private static string Group(ChargeKind kind) => kind switch
    {
        ChargeKind.Recurring => "Recurring charges",
        ChargeKind.Usage => "Usage",
        ChargeKind.OneTime => "One-time charges",
        ChargeKind.Discount => "Discounts",
        ChargeKind.Tax => "Tax",
        _ => "Adjustments and credits",
    };

    /// <summary>Writes top to bottom, starting a new page when the current one is full.</summary>
    private sealed class PageWriter(PdfDocument document)
    {
        private static readonly XFont Regular = new(BundledFonts.Family, 9, XFontStyleEx.Regular);
        private static readonly XFont Bold = new(BundledFonts.Family, 9, XFontStyleEx.Bold);
        private static readonly XFont Large = new(BundledFonts.Family, 16, XFontStyleEx.Bold);
        private XGraphics? _graphics;
        private PdfPage? _page;
        private double _y;

        private XGraphics Graphics(double needed)
        {
            if (_graphics is null || _y + needed > _page!.Height.Point - Margin)
            {
                _graphics?.Dispose();
                _page = document.AddPage();
                _page.Size = PdfSharp.PageSize.A4;
                _graphics = XGraphics.FromPdfPage(_page);
                _y = Margin;
            }

            return _graphics;
        }

        public void Title(string text)
        {
            Graphics(24).DrawString(text, Large, XBrushes.Black, new XPoint(Margin, _y + 16));
            _y += 26;
        }

        public void Text(string text)
        {
            Graphics(LineHeight).DrawString(Fit(text, 95), Regular, XBrushes.Black, new XPoint(Margin, _y + 10));
            _y += LineHeight;
        }

        public void Heading(string text)
        {
            Graphics(LineHeight + 4).DrawString(text, Bold, XBrushes.Black, new XPoint(Margin, _y + 14));
            _y += LineHeight + 4;
        }

        public void Gap() => _y += LineHeight / 2;

        public void Row(string description, string quantity, string unitPrice, string amount, bool bold = false)
        {
            var g = Graphics(LineHeight);
            var font = bold ? Bold : Regular;
            var width = _page!.Width.Point - 2 * Margin;
            g.DrawString(Fit(description, 70), font, XBrushes.Black, new XPoint(Margin, _y + 10));
            g.DrawString(quantity, font, XBrushes.Black, new XRect(Margin + width * 0.58, _y, width * 0.12, LineHeight), XStringFormats.TopRight);
            g.DrawString(unitPrice, font, XBrushes.Black, new XRect(Margin + width * 0.70, _y, width * 0.12, LineHeight), XStringFormats.TopRight);
            g.DrawString(amount, font, XBrushes.Black, new XRect(Margin + width * 0.82, _y, width * 0.18, LineHeight), XStringFormats.TopRight);
            _y += LineHeight;
        }

        /// <summary>Text from messages is shown, never interpreted: control characters become spaces, and long text is cut.</summary>
        private static string Fit(string text, int max)
        {
            var clean = new string(text.Select(ch => char.IsControl(ch) ? ' ' : ch).ToArray());
            return clean.Length <= max ? clean : clean[..(max - 1)] + "…";
        }
    }

    /// <summary>The Segoe WP faces PDFsharp ships (PdfSharp.WPFonts) under one family name, so rendering needs no installed fonts.</summary>
    private sealed class BundledFonts : IFontResolver
    {
        public const string Family = "O2X Sans";

        public FontResolverInfo? ResolveTypeface(string familyName, bool bold, bool italic) =>
            new(bold ? "o2x-bold" : "o2x-regular", false, italic);

        public byte[]? GetFont(string faceName) =>
            faceName == "o2x-bold" ? PdfSharp.WPFonts.FontDataHelper.SegoeWPBold : PdfSharp.WPFonts.FontDataHelper.SegoeWP;
    }
}
