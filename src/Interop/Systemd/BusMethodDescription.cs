namespace LocalMigrate.Interop.Systemd;

/// <summary>An exported method. The handler runs on the thread pool; its result is serialized by <see cref="OutSignature"/>.</summary>
public sealed record BusMethodDescription(
    string Name,
    string InSignature,
    string OutSignature,
    Func<BusMethodCall, Task<object?[]>> Handler,
    IReadOnlyList<string> InNames,
    IReadOnlyList<string> OutNames);
