using System.CommandLine;
using O2X.Bench;

var root = new RootCommand("O2X benchmarks. Every figure is printed beside a baseline measured in the same run.");
root.Add(OrdersBenchmark.Command());
root.Add(ClusterOrdersBenchmark.Command());
root.Add(ConnectorsBenchmark.Command());
root.Add(OmsFromBrokerBenchmark.Command("orders-rabbitmq", "amqp091"));
root.Add(OmsFromBrokerBenchmark.Command("orders-amqp10", "amqp10"));
root.Add(OmsFromBrokerBenchmark.Command("orders-kafka", "kafka"));
root.Add(MediationBenchmark.Command());
root.Add(RatingBenchmark.Command());
root.Add(BulkBenchmark.Command());
root.Add(SoakBenchmark.Command());
root.Add(BillingBenchmark.Command());
return await root.Parse(args).InvokeAsync();
