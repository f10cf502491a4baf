namespace O2X.Actors.Messaging;

/// <summary>
/// Registers an <see cref="IMessageHandler"/> under a name that queue bindings refer to
/// (<c>O2X:Bindings:{QUEUE}:Handler</c>). The class needs a public constructor taking the host's handler
/// context, or a parameterless one.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class QueueHandlerAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}
