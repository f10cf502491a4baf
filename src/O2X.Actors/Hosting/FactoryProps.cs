using Akka.Actor;

namespace O2X.Actors.Hosting;

/// <summary>
/// Props from a plain factory delegate, for actors created per message: <c>Props.Create(() => new …)</c> evaluates
/// its expression tree on every call, which measurably slowed order intake when three actors were made per message.
/// Local only (the delegate is not serializable), which is all these per-message actors need.
/// </summary>
internal static class FactoryProps
{
    public static Props Of<TActor>(Func<TActor> create) where TActor : ActorBase =>
        Props.CreateBy(new Producer<TActor>(create));

    private sealed class Producer<TActor>(Func<TActor> create) : IIndirectActorProducer where TActor : ActorBase
    {
        public Type ActorType => typeof(TActor);

        public ActorBase Produce() => create();

        public void Release(ActorBase actor)
        {
        }
    }
}
