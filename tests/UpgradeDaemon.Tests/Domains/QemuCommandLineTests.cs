using LocalMigrate.UpgradeDaemon.Domains;

namespace LocalMigrate.UpgradeDaemon.Tests.Domains;

public sealed class QemuCommandLineTests
{
    private static readonly DomainDefinition Definition = DefinitionParser.Parse("""
        {"name":"cl","uuid":"11111111-2222-3333-4444-555555555555","memoryMiB":512,"vcpus":2,"machine":"pc-q35-7.2","kernel":"/k","initrd":"/i",
         "cmdline":"console=ttyS0 quiet","disks":[{"path":"/d.qcow2","format":"qcow2","shared":true}],"nics":[{"mac":"52:54:00:00:00:01"}]}
        """);

    [Fact]
    public void Build_SourceAndTarget_DifferOnlyInRuntimePathsAndIncoming()
    {
        var a = QemuCommandLine.Build(Definition, InstancePaths.For("/run/lm", "cl", "aaaa"), "tcg", "/var/lib/lm/console/cl.log", "/dev/shm/lm/x.ram", false);
        var b = QemuCommandLine.Build(Definition, InstancePaths.For("/run/lm", "cl", "bbbb"), "tcg", "/var/lib/lm/console/cl.log", "/dev/shm/lm/x.ram", true);
        Assert.Equal(["-incoming", "defer"], b.TakeLast(2));
        Assert.Equal(a.Select(x => x.Replace("cl.aaaa", "cl.X")), b.SkipLast(2).Select(x => x.Replace("cl.bbbb", "cl.X")));
    }

    [Fact]
    public void Build_SharedMemory_UsesTheNamedFileSharedAndTheUuid()
    {
        var args = QemuCommandLine.Build(Definition, InstancePaths.For("/run/lm", "cl", "aaaa"), "tcg", "/c.log", "/dev/shm/lm/x.ram", false);
        Assert.Contains("memory-backend-file,id=ram0,size=512M,mem-path=/dev/shm/lm/x.ram,share=on", args);
        Assert.Contains("pc-q35-7.2,memory-backend=ram0", args);
        Assert.Contains("11111111-2222-3333-4444-555555555555", args);
        Assert.Contains("socket,id=serial0,path=/run/lm/cl.aaaa/serial.sock,server=on,wait=off,logfile=/c.log,logappend=on", args);
        Assert.Contains("socket,id=qmp,path=/run/lm/cl.aaaa/qmp.sock,server=on,wait=off", args);
        Assert.Contains("virtio-blk-pci,drive=disk0,id=disk0,share-rw=on", args);
        Assert.Contains("virtio-net-pci,netdev=net0,mac=52:54:00:00:00:01,id=net0", args);
    }

    [Fact]
    public void Build_PrivateMemory_UsesAnonymousRamBackend()
    {
        var args = QemuCommandLine.Build(Definition with { MemoryBacking = MemoryBacking.Private }, InstancePaths.For("/r", "cl", "a"), "kvm", "/c.log", null, false);
        Assert.Contains("memory-backend-ram,id=ram0,size=512M", args);
        Assert.DoesNotContain(args, a => a.Contains("mem-path"));
    }

    [Fact]
    public void ValidateSocketLengths_TooLongRuntimeDir_NamesThePath()
    {
        var paths = InstancePaths.For("/" + new string('r', 60), new string('n', 64), "abcdef01");
        var e = Assert.Throws<ArgumentException>(paths.ValidateSocketLengths);
        Assert.Contains("too long", e.Message);
    }
}
