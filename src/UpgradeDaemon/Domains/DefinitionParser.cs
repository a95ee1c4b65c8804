using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>
/// Reads a domain definition (JSON, schema version 1) and checks every field, reporting all problems at once
/// by JSON path, in the manner of YARP's config validation. Unknown fields are errors: a typo such as
/// "memoryMib" must not silently fall back to a default.
/// </summary>
public static partial class DefinitionParser
{
    public const int MinMemoryMiB = 16;
    public const int MaxMemoryMiB = 4 * 1024 * 1024;
    public const int MaxVcpus = 288;
    public static readonly IReadOnlyList<string> Accelerators = ["kvm", "tcg"];
    public static readonly IReadOnlyList<string> DiskFormats = ["raw", "qcow2"];
    public static readonly IReadOnlyList<string> NicTypes = [NicDefinition.UserType, NicDefinition.BridgeType, NicDefinition.TapType];

    private static readonly HashSet<string> TopLevelFields =
    [
        "schemaVersion", "name", "uuid", "memoryMiB", "vcpus", "machine", "accel", "qemu",
        "kernel", "initrd", "cmdline", "disks", "nics", "memoryBacking",
    ];

    private static readonly HashSet<string> DiskFields = ["path", "format", "readonly", "shared"];
    private static readonly HashSet<string> NicFields = ["type", "model", "mac", "bridge", "tap"];

    [GeneratedRegex("^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")]
    private static partial Regex MacPattern();

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,64}$")]
    private static partial Regex MachinePattern();

    /// <exception cref="DefinitionException">Every bad field, by name.</exception>
    public static DomainDefinition Parse(string json)
    {
        // Checked before the parser allocates anything: a UTF-16 char is at least one UTF-8 byte, so the cheap
        // length test refuses a huge string without walking it.
        if (json.Length > DefinitionLimits.MaxDocumentBytes || Encoding.UTF8.GetByteCount(json) > DefinitionLimits.MaxDocumentBytes)
        {
            throw new DefinitionException([new DefinitionError("(document)",
                $"larger than {DefinitionLimits.MaxDocumentBytes} bytes (1 MiB), the most a domain definition may be")]);
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new DefinitionException([new DefinitionError("(document)", $"not valid JSON: {e.Message}")]);
        }
        using (document)
            return Parse(document.RootElement);
    }

    public static DomainDefinition Parse(JsonElement root)
    {
        var errors = new List<DefinitionError>();
        if (root.ValueKind != JsonValueKind.Object)
            throw new DefinitionException([new DefinitionError("(document)", "must be a JSON object")]);

        FieldReader.CheckKeys(root, "", TopLevelFields, errors);

        var reader = new FieldReader(root, "", errors);
        var schemaVersion = reader.Int("schemaVersion", DomainDefinition.CurrentSchemaVersion, 1, 1);
        var name = reader.String("name");
        if (name is null)
            errors.Add(new DefinitionError("name", "required"));
        else if (!DomainName.IsValid(name))
            errors.Add(new DefinitionError("name", $"'{DomainName.Printable(name)}' is not a valid domain name ({DomainName.Rule})"));

        var uuidText = reader.String("uuid");
        var uuid = Guid.NewGuid();
        if (uuidText is not null && (!Guid.TryParseExact(uuidText, "D", out uuid) || uuid == Guid.Empty))
            errors.Add(new DefinitionError("uuid", $"'{uuidText}' is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, not all zero)"));

        var memory = reader.Int("memoryMiB", 256, MinMemoryMiB, MaxMemoryMiB);
        var vcpus = reader.Int("vcpus", 1, 1, MaxVcpus);
        var machine = reader.String("machine") ?? "q35";
        if (!MachinePattern().IsMatch(machine))
            errors.Add(new DefinitionError("machine", $"'{DomainName.Printable(machine)}' is not a machine type name"));
        var accel = reader.OneOf("accel", Accelerators);
        var qemu = reader.AbsolutePath("qemu");
        var kernel = reader.AbsolutePath("kernel");
        var initrd = reader.AbsolutePath("initrd");
        var cmdline = reader.String("cmdline");
        if (cmdline is not null && cmdline.Contains('\0'))
            errors.Add(new DefinitionError("cmdline", "must not contain NUL"));
        if (kernel is null && (initrd is not null || cmdline is not null))
            errors.Add(new DefinitionError(initrd is not null ? "initrd" : "cmdline", "needs kernel"));

        var backingText = reader.OneOf("memoryBacking", ["shared", "private"]);
        var backing = backingText == "private" ? MemoryBacking.Private : MemoryBacking.Shared;

        var disks = reader.Array("disks", DefinitionLimits.MaxPciDevices, (element, path) => ParseDisk(element, path, errors));
        var nics = reader.Array("nics", DefinitionLimits.MaxPciDevices, (element, path) => ParseNic(element, path, errors));
        if (disks.Count + nics.Count > DefinitionLimits.MaxPciDevices)
        {
            errors.Add(new DefinitionError("disks, nics", $"{disks.Count} disks and {nics.Count} NICs need {disks.Count + nics.Count} PCI slots; " +
                                                          $"the machine has {DefinitionLimits.MaxPciDevices} free"));
        }
        if (kernel is null && disks.Count == 0 && !errors.Any(e => e.Field is "kernel" or "disks"))
            errors.Add(new DefinitionError("kernel", "a domain needs a kernel or at least one disk"));

        if (errors.Count > 0)
            throw new DefinitionException(errors);

        return new DomainDefinition
        {
            SchemaVersion = schemaVersion,
            Name = name!,
            Uuid = uuid,
            MemoryMiB = memory,
            Vcpus = vcpus,
            Machine = machine,
            Accel = accel,
            Qemu = qemu,
            Kernel = kernel,
            Initrd = initrd,
            Cmdline = cmdline,
            Disks = disks,
            Nics = nics,
            MemoryBacking = backing,
        };
    }

    private static DiskDefinition? ParseDisk(JsonElement element, string path, List<DefinitionError> errors)
    {
        if (!FieldReader.RequireObject(element, path, DiskFields, errors))
            return null;
        var reader = new FieldReader(element, path + ".", errors);
        var diskPath = reader.AbsolutePath("path");
        if (diskPath is null && !errors.Any(e => e.Field == path + ".path"))
            errors.Add(new DefinitionError(path + ".path", "required"));
        var format = reader.OneOf("format", DiskFormats) ?? "raw";
        var readOnly = reader.Bool("readonly");
        var shared = reader.Bool("shared");
        return diskPath is null ? null : new DiskDefinition(diskPath, format, readOnly, shared);
    }

    private static NicDefinition? ParseNic(JsonElement element, string path, List<DefinitionError> errors)
    {
        if (!FieldReader.RequireObject(element, path, NicFields, errors))
            return null;
        var reader = new FieldReader(element, path + ".", errors);
        var type = reader.OneOf("type", NicTypes) ?? "user";
        var model = reader.String("model") ?? "virtio-net-pci";
        if (!MachinePattern().IsMatch(model))
            errors.Add(new DefinitionError(path + ".model", $"'{DomainName.Printable(model)}' is not a device model name"));
        var mac = reader.String("mac")?.ToLowerInvariant();
        if (mac is not null && !MacPattern().IsMatch(mac))
            errors.Add(new DefinitionError(path + ".mac", $"'{DomainName.Printable(mac)}' is not a MAC address (xx:xx:xx:xx:xx:xx)"));
        else if (mac is not null && (Convert.ToByte(mac[..2], 16) & 1) != 0)
            errors.Add(new DefinitionError(path + ".mac", $"{mac} is a multicast address (the first byte is odd); a NIC needs a unicast one"));
        else if (mac == "00:00:00:00:00:00")
            errors.Add(new DefinitionError(path + ".mac", "00:00:00:00:00:00 is not a usable address"));
        // QEMU's own OUI with random low bytes: stable once stored, so the guest keeps its address.
        mac ??= $"52:54:00:{Random.Shared.Next(256):x2}:{Random.Shared.Next(256):x2}:{Random.Shared.Next(256):x2}";
        var bridge = InterfaceName(reader, "bridge", path, errors);
        var tap = InterfaceName(reader, "tap", path, errors);
        foreach (var (field, value, wanted) in new[] { ("bridge", bridge, NicDefinition.BridgeType), ("tap", tap, NicDefinition.TapType) })
        {
            if (type == wanted && value is null && !errors.Any(e => e.Field == $"{path}.{field}"))
                errors.Add(new DefinitionError($"{path}.{field}", $"required for type {wanted}"));
            else if (type != wanted && value is not null)
                errors.Add(new DefinitionError($"{path}.{field}", $"only for type {wanted} (this NIC is type {type})"));
        }
        return new NicDefinition(type, model, mac) { Bridge = bridge, Tap = tap };
    }

    private static string? InterfaceName(FieldReader reader, string field, string path, List<DefinitionError> errors)
    {
        var name = reader.String(field);
        if (name is null || Interop.Posix.NetInterface.IsValidName(name))
            return name;
        errors.Add(new DefinitionError($"{path}.{field}", name.Length > Interop.Posix.NetInterface.MaxNameLength
            ? $"'{DomainName.Printable(name)}' is {name.Length} characters; an interface name has at most {Interop.Posix.NetInterface.MaxNameLength}"
            : $"'{DomainName.Printable(name)}' is not an interface name (printable ASCII, no '/', ':' or space)"));
        return null;
    }
}
