using System.Globalization;

namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>
/// Builds a QEMU command line from a definition. Source and target of a migration must get the same device
/// model, so everything guest-visible comes from the stored definition and only runtime paths differ.
/// </summary>
public static class QemuCommandLine
{
    /// <param name="consoleLog">The domain's serial log: QEMU appends to it itself (chardev logfile), so the
    /// guest's output is kept while no one is attached and reads as one stream across instances.</param>
    /// <param name="startPaused">QEMU's -S: the guest does not run until <c>cont</c>.</param>
    /// <param name="sharedMemoryFile">The guest RAM file, for <see cref="MemoryBacking.Shared"/>.</param>
    /// <param name="netdevs">Per NIC the -netdev backend (e.g. "tap,fd=3,vhost=off", from <see cref="NicBackends"/>); null or a
    /// null entry: the NIC's type as is (user).</param>
    public static IReadOnlyList<string> Build(DomainDefinition definition, InstancePaths paths, string accel,
        string consoleLog, string? sharedMemoryFile, bool incoming, bool startPaused = false, IReadOnlyList<string?>? netdevs = null)
    {
        var size = definition.MemoryMiB.ToString(CultureInfo.InvariantCulture) + "M";
        var args = new List<string>
        {
            "-name", $"guest={definition.Name},debug-threads=on",
            "-uuid", definition.Uuid.ToString("D"),
            "-nodefaults", "-no-user-config", "-display", "none",
            "-msg", "timestamp=on",
            "-machine", $"{definition.Machine},memory-backend=ram0",
            "-accel", accel,
            "-m", size,
            "-smp", definition.Vcpus.ToString(CultureInfo.InvariantCulture),
        };
        // The same backend id for both kinds, so the RAM block has one name whatever the backing.
        args.Add("-object");
        args.Add(definition.MemoryBacking == MemoryBacking.Shared
            ? $"memory-backend-file,id=ram0,size={size},mem-path={sharedMemoryFile ?? throw new ArgumentNullException(nameof(sharedMemoryFile))},share=on"
            : $"memory-backend-ram,id=ram0,size={size}");

        args.AddRange(["-chardev", $"socket,id=qmp,path={paths.QmpSocket},server=on,wait=off", "-mon", "chardev=qmp,mode=control"]);
        args.AddRange(["-chardev", $"socket,id=serial0,path={paths.SerialSocket},server=on,wait=off,logfile={consoleLog},logappend=on",
            "-device", "isa-serial,chardev=serial0,id=serial0"]);

        if (definition.Kernel is not null)
            args.AddRange(["-kernel", definition.Kernel]);
        if (definition.Initrd is not null)
            args.AddRange(["-initrd", definition.Initrd]);
        if (definition.Cmdline is not null)
            args.AddRange(["-append", definition.Cmdline]);

        for (var i = 0; i < definition.Disks.Count; i++)
        {
            var disk = definition.Disks[i];
            var readOnly = disk.ReadOnly ? ",read-only=on" : "";
            args.AddRange(["-blockdev", $"driver=file,filename={disk.Path},node-name=file{i}{readOnly}",
                "-blockdev", $"driver={disk.Format},file=file{i},node-name=disk{i}{readOnly}",
                "-device", $"virtio-blk-pci,drive=disk{i},id=disk{i}{(disk.Shared ? ",share-rw=on" : "")}"]);
        }
        for (var i = 0; i < definition.Nics.Count; i++)
        {
            var nic = definition.Nics[i];
            args.AddRange(["-netdev", $"{netdevs?[i] ?? nic.Type},id=net{i}", "-device", $"{nic.Model},netdev=net{i},mac={nic.Mac},id=net{i}"]);
        }
        if (incoming)
            args.AddRange(["-incoming", "defer"]);
        // A remote target stays paused after the stream arrived, until the source's Confirm says "cont": only then
        // may the guest run here, so a lost Commit can never leave it running on both hosts.
        if (startPaused)
            args.Add("-S");
        return args;
    }
}
