using O2X.Host.Hosting;

using O2X.Host.Testing;

namespace O2X.Host.Tests;

public class ConfigurationTests
{
    [Theory]
    [InlineData("O2X:Node:Port", "70000", "O2X:Node:Port")]
    [InlineData("O2X:Node:Port", "four", "O2X:Node:Port")]
    [InlineData("O2X:Node:Prot", "4053", "Prot")]
    [InlineData("O2X:Node:SeedNodes:0", "http://node1:4053", "O2X:Node:SeedNodes:0")]
    [InlineData("O2X:Node:Roles:0", "billing", "O2X:Node:Roles")]
    [InlineData("O2X:Persistence:Provider", "PostgreSql", "O2X:Persistence:ConnectionString")]
    [InlineData("O2X:Persistence:Provider", "Oracle", "O2X:Persistence:Provider")]
    [InlineData("O2X:Ingestion:MaxMessageBytes", "10", "O2X:Ingestion:MaxMessageBytes")]
    [InlineData("O2X:Entities:AskTimeout", "soon", "O2X:Entities:AskTimeout")]
    public async Task A_wrong_setting_stops_start_up_with_a_message_naming_it(string key, string value, string named)
    {
        await using var node = new O2XNodeFactory(new Dictionary<string, string?> { [key] = value });

        var start = () => node.CreateClient();

        start.Should().Throw<O2XConfigurationException>().Which.Message.Should().Contain(named);
    }

    [Fact]
    public void A_postgres_password_never_appears_in_the_description_of_the_store()
    {
        var options = new O2X.Actors.Hosting.PersistenceOptions { ConnectionString = "Host=db;Username=o2x;Password=s3cr3t;Database=o2x" };

        options.Describe().Should().NotContain("s3cr3t").And.Contain("PostgreSql").And.ContainEquivalentOf("host=db");
    }
}
