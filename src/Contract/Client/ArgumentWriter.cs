using Tmds.DBus.Protocol;

namespace LocalMigrate.Contract.Client;

/// <summary>Writes a call's arguments after its header (MessageWriter is a ref struct, so no lambda can capture it).</summary>
public delegate void ArgumentWriter(ref MessageWriter writer);
