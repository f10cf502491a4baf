using System.CommandLine;
using O2X.Bench;

var root = new RootCommand("O2X benchmarks. Every figure is printed beside a baseline measured in the same run.");
root.Add(OrdersBenchmark.Command());
root.Add(ConnectorsBenchmark.Command());
root.Add(OmsFromBrokerBenchmark.Command());
root.Add(MediationBenchmark.Command());
root.Add(RatingBenchmark.Command());
return await root.Parse(args).InvokeAsync();
