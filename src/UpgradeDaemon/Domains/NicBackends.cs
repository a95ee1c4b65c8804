using System.Globalization;
using LocalMigrate.Interop.Posix;

namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>
/// The open files one QEMU start gets for its tap NICs: per NIC its tap queue and, when /dev/vhost-net opens, a vhost fd.
/// The tap queue is the one a running QEMU of the same domain already holds when there is one (a local migration's
/// source: <see cref="PidFd.DuplicateFrom"/>), so both QEMUs share one tap and one bridge port and the target never
/// needs state the daemon could lose in a restart; otherwise a new tap (bridge type) or the operator's (tap type).
/// Disposed once the new QEMU answers (see <see cref="RestoreSharedTaps"/>): QEMU holds its own copies, and a tap the
/// daemon created then lives exactly as long as a QEMU holding it.
/// </summary>
public sealed class NicBackends : IDisposable
{
    public const string VhostDevice = "/dev/vhost-net";

    private readonly List<int> _fds = [];
    private readonly string?[] _netdevs;
    private readonly List<string> _described = [];
    private readonly List<(int Fd, int HeaderSize)> _shared = [];
    private Task? _guard;
    private CancellationTokenSource? _guardStop;

    private NicBackends(int count) => _netdevs = new string?[count];

    /// <summary>Open fds to hand QEMU, in order: the child gets them as fd 3, 4, ... (<see cref="DetachedProcess"/>).</summary>
    public IReadOnlyList<int> Fds => _fds;

    /// <summary>Per NIC, the -netdev backend options (without id), or null for user networking.</summary>
    public IReadOnlyList<string?> Netdevs => _netdevs;

    /// <summary>Per tap NIC, e.g. "net0 tap lm1a2b3c4dn0 bridge br0 vhost off (shared with pid 123)", for instance.json and status.</summary>
    public IReadOnlyList<string> Described => _described;

    /// <param name="runningPids">QEMU processes of this domain that run now (a local migration's source).</param>
    /// <exception cref="InstanceStartException">A NIC's bridge or tap is missing or unusable, named by field.</exception>
    public static NicBackends Open(DomainDefinition definition, IReadOnlyList<int> runningPids)
    {
        var backends = new NicBackends(definition.Nics.Count);
        try
        {
            for (var i = 0; i < definition.Nics.Count; i++)
            {
                var nic = definition.Nics[i];
                if (!nic.UsesTap)
                    continue;
                var tap = TapName.Of(definition, i)!;
                var (tapFd, from) = OpenTap(definition, i, tap, runningPids);
                backends._fds.Add(tapFd);
                if (from is not null)
                    backends._shared.Add((tapFd, TapDevice.VnetHeaderSize(tapFd)));
                var tapArg = DetachedProcess.FirstInheritedFd + backends._fds.Count - 1;
                var vhostFd = RawFd.TryOpenReadWrite(VhostDevice, out _);
                string vhost;
                if (vhostFd >= 0)
                {
                    backends._fds.Add(vhostFd);
                    vhost = $"vhost=on,vhostfd={(DetachedProcess.FirstInheritedFd + backends._fds.Count - 1).ToString(CultureInfo.InvariantCulture)}";
                }
                else
                {
                    vhost = "vhost=off";
                }
                backends._netdevs[i] = $"tap,fd={tapArg.ToString(CultureInfo.InvariantCulture)},{vhost}";
                backends._described.Add($"net{i} tap {tap}" + (nic.Bridge is { } b ? $" bridge {b}" : "") +
                                        $" vhost {(vhostFd >= 0 ? "on" : "off")}" + (from is { } pid ? $" (shared with pid {pid})" : ""));
            }
            return backends;
        }
        catch
        {
            backends.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Gives a shared tap back the virtio-net header length its running QEMU uses. A QEMU resets it when it sets up its
    /// tap backend (net/tap.c: "it might have been modified by another instance of qemu") to 10 bytes, while a running
    /// virtio 1.0 guest's QEMU uses 12: until the target loads the device state at the switch-over (and sets 12 itself),
    /// every frame the source reads or writes would be shifted by two bytes and dropped, and after a rollback for good.
    /// Called once the target answers QMP, which is after its backends are set up. (Its offload reset, TUNSETOFFLOAD 0,
    /// stays until the target loads the device state: the kernel then hands the source segmented, checksummed frames,
    /// slower but correct; after a rollback until the source's guest renegotiates.)
    /// </summary>
    public void RestoreSharedTaps()
    {
        StopGuard();
        foreach (var (fd, size) in _shared)
            TapDevice.SetVnetHeaderSize(fd, size);
    }

    /// <summary>
    /// From the spawn until <see cref="RestoreSharedTaps"/>: puts a shared tap's header size back within a millisecond of
    /// the new QEMU changing it, so the source's frames are garbled for about that long rather than until QMP answers
    /// (tens of ms under load). Only while a target starts; nothing polls in the switch-over.
    /// </summary>
    public void GuardSharedTaps()
    {
        if (_shared.Count == 0 || _guard is not null)
            return;
        _guardStop = new CancellationTokenSource();
        var stop = _guardStop.Token;
        var shared = _shared.ToArray();
        _guard = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(1));
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                foreach (var (fd, size) in shared)
                {
                    if (TapDevice.VnetHeaderSize(fd) != size)
                        TapDevice.SetVnetHeaderSize(fd, size);
                }
            }
        }, stop);
    }

    private void StopGuard()
    {
        if (_guard is null)
            return;
        _guardStop!.Cancel();
        try
        {
            _guard.Wait();
        }
        catch (AggregateException e) when (e.InnerExceptions.All(x => x is OperationCanceledException or IOException))
        {
            // Cancelled, or the tap went (the source ended): the unconditional restore that follows says which.
        }
        _guardStop.Dispose();
        _guard = null;
        _guardStop = null;
    }

    /// <summary>What a host must have for <paramref name="definition"/>'s NICs: the bridges (and operator taps) by name.</summary>
    /// <returns>Every problem, each naming its field; empty when all are there.</returns>
    public static IReadOnlyList<DefinitionError> CheckHost(DomainDefinition definition)
    {
        var errors = new List<DefinitionError>();
        for (var i = 0; i < definition.Nics.Count; i++)
        {
            var nic = definition.Nics[i];
            if (nic.Bridge is { } bridge)
            {
                var driver = NetInterface.DriverOf(bridge);
                if (driver is null)
                    errors.Add(new DefinitionError($"nics[{i}].bridge", $"no bridge {bridge} on this host"));
                else if (driver != "bridge")
                    errors.Add(new DefinitionError($"nics[{i}].bridge", $"{bridge} is not a bridge (driver '{driver}')"));
            }
            if (nic.Tap is { } tap)
            {
                var driver = NetInterface.DriverOf(tap);
                if (driver is null)
                    errors.Add(new DefinitionError($"nics[{i}].tap", $"no tap {tap} on this host (create it persistent: ip tuntap add mode tap name {tap})"));
                else if (driver != "tun")
                    errors.Add(new DefinitionError($"nics[{i}].tap", $"{tap} is not a tap (driver '{driver}')"));
            }
        }
        return errors;
    }

    private static (int Fd, int? From) OpenTap(DomainDefinition definition, int index, string tap, IReadOnlyList<int> runningPids)
    {
        var looked = new List<string>();
        foreach (var pid in runningPids)
        {
            if (PidFd.FindTapFd(pid, tap) is not { } held)
            {
                looked.Add($"pid {pid} holds no fd of it");
                continue;
            }
            try
            {
                return (PidFd.DuplicateFrom(pid, held), pid);
            }
            catch (IOException e)
            {
                // That QEMU ended as we looked: the tap went with it (or another holder is next in the list).
                looked.Add($"pid {pid}: {e.Message}");
            }
        }
        var nic = definition.Nics[index];
        var field = nic.Type == NicDefinition.BridgeType ? $"nics[{index}].bridge" : $"nics[{index}].tap";
        if (CheckHost(definition with { Nics = [nic] }) is [var missing, ..])
            throw new InstanceStartException(definition.Name, $"{field}: {missing.Message}");
        try
        {
            if (nic.Type == NicDefinition.TapType)
                return (TapDevice.Open(tap), null);
            return (CreateOnBridge(tap, nic.Bridge!), null);
        }
        catch (IOException e)
        {
            var searched = runningPids.Count == 0 ? "no other QEMU of the domain runs" : string.Join("; ", looked);
            throw new InstanceStartException(definition.Name, $"{field}: {e.Message} ({searched})");
        }
    }

    private static int CreateOnBridge(string tap, string bridge)
    {
        int fd;
        try
        {
            fd = TapDevice.Create(tap);
        }
        catch (IOException) when (NetInterface.Exists(tap))
        {
            // A tap of this name outlived its QEMU only if someone made it persistent: the name is the domain's, so it
            // goes (refused while a process still holds it), and a fresh one takes its place.
            TapDevice.DeleteStale(tap);
            fd = TapDevice.Create(tap);
        }
        try
        {
            NetInterface.SetMtu(tap, NetInterface.MtuOf(bridge));
            NetInterface.AddToBridge(bridge, tap);
            NetInterface.SetUp(tap);
            return fd;
        }
        catch
        {
            RawFd.Close(fd);
            throw;
        }
    }

    public void Dispose()
    {
        StopGuard();
        foreach (var fd in _fds)
            RawFd.Close(fd);
        _fds.Clear();
        _shared.Clear();
    }
}
