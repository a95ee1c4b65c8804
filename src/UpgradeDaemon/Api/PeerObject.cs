using LocalMigrate.Contract;
using LocalMigrate.UpgradeDaemon.Remote;
using Tmds.DBus.Protocol;

namespace LocalMigrate.UpgradeDaemon.Api;

/// <summary>
/// <see cref="PeerContract"/> at <see cref="BusContract.PeerPath"/>: what a source daemon on another host calls,
/// through a bridge (ssh, TLS, TCP) or the bus itself. Every method changes or reveals guest state: all need the
/// mutate permission (a bridge from TLS acts as this daemon's uid; over ssh, as the ssh user).
/// </summary>
internal static class PeerObject
{
    public static ExportedInterface Build(RemoteMigrationDst incoming, CallerPolicy policy) =>
        new ExportedInterface(PeerContract.Interface)
            .Get(PeerContract.Version, () => VariantValue.UInt32(PeerContract.ProtocolVersion))
            .On(PeerContract.Hello, async call =>
            {
                await policy.RequireMutateAsync(call).ConfigureAwait(false);
                var host = incoming.Hello((IReadOnlyDictionary<string, object>)call.Args[0]!);
                return [Dictionary(host)];
            })
            .On(PeerContract.Prepare, async call =>
            {
                await policy.RequireMutateAsync(call).ConfigureAwait(false);
                var prepared = await incoming.PrepareAsync((string)call.Args[0]!, (string)call.Args[1]!,
                    (IReadOnlyDictionary<string, object>)call.Args[2]!, call.Sender, CancellationToken.None).ConfigureAwait(false);
                return [Dictionary(new Dictionary<string, object>
                {
                    [PeerContract.PreparedKeys.InstanceId] = prepared.InstanceId,
                    [PeerContract.PreparedKeys.Pid] = (uint)prepared.Pid,
                    [PeerContract.PreparedKeys.Port] = (uint)prepared.Port,
                    [PeerContract.PreparedKeys.QemuVersion] = prepared.QemuVersion,
                    [PeerContract.PreparedKeys.TargetCapabilities] = prepared.TargetSettings.Capabilities.ToArray(),
                    [PeerContract.PreparedKeys.TargetParameters] = prepared.TargetSettings.Parameters.Select(p => $"{p.Key}={p.Value}").ToArray(),
                    [PeerContract.PreparedKeys.NbdPort] = (uint)prepared.NbdPort,
                    [PeerContract.PreparedKeys.SnapshotProblems] = prepared.SnapshotProblems.ToArray(),
                })];
            })
            .On(PeerContract.Finish, async call =>
            {
                await policy.RequireMutateAsync(call).ConfigureAwait(false);
                var finished = await incoming.FinishAsync((string)call.Args[0]!, CancellationToken.None).ConfigureAwait(false);
                return [(uint)finished.Pid, finished.QemuVersion];
            })
            .On(PeerContract.Verify, async call =>
            {
                await policy.RequireMutateAsync(call).ConfigureAwait(false);
                return [await incoming.VerifyAsync((string)call.Args[0]!, CancellationToken.None).ConfigureAwait(false)];
            })
            .On(PeerContract.Commit, async call =>
            {
                await policy.RequireMutateAsync(call).ConfigureAwait(false);
                await incoming.CommitAsync((string)call.Args[0]!).ConfigureAwait(false);
                return [];
            })
            .On(PeerContract.Abort, async call =>
            {
                await policy.RequireMutateAsync(call).ConfigureAwait(false);
                await incoming.AbortAsync((string)call.Args[0]!).ConfigureAwait(false);
                return [];
            })
            .On(PeerContract.Query, async call =>
            {
                await policy.RequireMutateAsync(call).ConfigureAwait(false);
                return [incoming.Query((string)call.Args[0]!)];
            })
            .On(PeerContract.CancelIncoming, async call =>
            {
                await policy.RequireMutateAsync(call).ConfigureAwait(false);
                return [await incoming.CancelIncomingAsync((string)call.Args[0]!).ConfigureAwait(false)];
            })
            .Complete();

    private static Contract.Client.ArgumentWriter Dictionary(IReadOnlyDictionary<string, object> values) =>
        (ref MessageWriter w) =>
        {
            var start = w.WriteDictionaryStart();
            foreach (var (key, value) in values)
            {
                w.WriteDictionaryEntryStart();
                w.WriteString(key);
                switch (value)
                {
                    case string s: w.WriteVariantString(s); break;
                    case uint u: w.WriteVariantUInt32(u); break;
                    case ulong t: w.WriteVariantUInt64(t); break;
                    case bool b: w.WriteVariantBool(b); break;
                    case string[] a: w.WriteVariant(VariantValue.Array(a)); break;
                    default: throw new ArgumentException($"{key}: no D-Bus type for {value.GetType().Name}");
                }
            }
            w.WriteDictionaryEnd(start);
        };
}
