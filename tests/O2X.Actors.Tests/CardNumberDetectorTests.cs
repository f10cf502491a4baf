using O2X.Actors.Messaging;

namespace O2X.Actors.Tests;

public class CardNumberDetectorTests
{
    [Theory]
    [InlineData("4111111111111111")]
    [InlineData("card 4111 1111 1111 1111 exp 12/29")]
    [InlineData("6011-1111-1111-1117")]
    [InlineData("4222222222222")]
    public void Finds_numbers_that_look_like_cards(string text) =>
        CardNumberDetector.ContainsCardNumber(text).Should().BeTrue();

    [Theory]
    [InlineData("tok_visa_1234")]
    [InlineData("4111111111111112")] // fails the Luhn check
    [InlineData("+52 55 1234 5678")] // a phone number
    [InlineData("41111111111111111111")] // 20 digits: not a PAN
    [InlineData("1111111111111117")] // no card scheme starts with 1
    [InlineData("ONT123456")]
    public void Leaves_other_numbers_alone(string text) =>
        CardNumberDetector.ContainsCardNumber(text).Should().BeFalse();
}
