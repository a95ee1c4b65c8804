namespace LocalMigrate.Contract;

/// <summary>A method of an interface, with its in and out arguments.</summary>
public sealed record BusMethod(string Interface, string Name, IReadOnlyList<BusArgument> In, IReadOnlyList<BusArgument> Out)
{
    public string InSignature { get; } = string.Concat(In.Select(a => a.Signature));
    public string OutSignature { get; } = string.Concat(Out.Select(a => a.Signature));
}
