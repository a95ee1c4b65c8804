using Tmds.DBus.Protocol;

namespace LocalMigrate.Contract.Client;

/// <summary>Typed calls of <see cref="PeerContract"/>: what a source daemon asks of a destination daemon.</summary>
public readonly struct PeerClient(DaemonConnection connection)
{
    private static readonly MessageValueReader<Dictionary<string, VariantValue>> Dictionary =
        static (m, _) => m.GetBodyReader().ReadDictionaryOfStringToVariantValue();

    public Task<Dictionary<string, VariantValue>> HelloAsync(IReadOnlyDictionary<string, VariantValue> source) =>
        connection.CallAsync(BusContract.PeerPath, PeerContract.Hello, (ref MessageWriter w) => BusWriting.WriteVariantDictionary(ref w, source), Dictionary);

    public Task<Dictionary<string, VariantValue>> PrepareAsync(string job, string definitionJson, IReadOnlyDictionary<string, VariantValue> options) =>
        connection.CallAsync(BusContract.PeerPath, PeerContract.Prepare, (ref MessageWriter w) =>
        {
            w.WriteString(job);
            w.WriteString(definitionJson);
            BusWriting.WriteVariantDictionary(ref w, options);
        }, Dictionary);

    public Task<(uint Pid, string QemuVersion)> FinishAsync(string job) =>
        connection.CallAsync(BusContract.PeerPath, PeerContract.Finish, (ref MessageWriter w) => w.WriteString(job), static (m, _) =>
        {
            var reader = m.GetBodyReader();
            var pid = reader.ReadUInt32();
            return (pid, reader.ReadString());
        });

    /// <returns>"" when the target holds the guest; otherwise why not.</returns>
    public Task<string> VerifyAsync(string job, bool guestRan) =>
        connection.CallAsync(BusContract.PeerPath, PeerContract.Verify, (ref MessageWriter w) =>
        {
            w.WriteString(job);
            w.WriteBool(guestRan);
        }, static (m, _) => m.GetBodyReader().ReadString());

    public Task CommitAsync(string job) =>
        connection.CallAsync(BusContract.PeerPath, PeerContract.Commit, (ref MessageWriter w) => w.WriteString(job), Replies.None);

    public Task AbortAsync(string job) =>
        connection.CallAsync(BusContract.PeerPath, PeerContract.Abort, (ref MessageWriter w) => w.WriteString(job), Replies.None);

    /// <returns>The job whose incoming target was killed.</returns>
    public Task<string> CancelIncomingAsync(string domain) =>
        connection.CallAsync(BusContract.PeerPath, PeerContract.CancelIncoming, (ref MessageWriter w) => w.WriteString(domain),
            static (m, _) => m.GetBodyReader().ReadString());

    public Task<string> QueryAsync(string job) =>
        connection.CallAsync(BusContract.PeerPath, PeerContract.Query, (ref MessageWriter w) => w.WriteString(job),
            static (m, _) => m.GetBodyReader().ReadString());
}
