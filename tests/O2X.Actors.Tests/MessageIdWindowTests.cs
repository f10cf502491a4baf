using O2X.Actors.Messaging;

namespace O2X.Actors.Tests;

public class MessageIdWindowTests
{
    [Fact]
    public void Keeps_the_most_recent_ids_up_to_its_capacity()
    {
        var window = new MessageIdWindow([], capacity: 3);

        window = window.Add("a").Add("b").Add("c").Add("d");

        window.Contains("a").Should().BeFalse("the oldest id is evicted first");
        window.Ids.Should().Equal("b", "c", "d");
    }

    [Fact]
    public void Adding_a_known_id_changes_nothing()
    {
        var window = new MessageIdWindow([], capacity: 2).Add("a").Add("b");

        window.Add("a").Ids.Should().Equal("a", "b");
    }
}
