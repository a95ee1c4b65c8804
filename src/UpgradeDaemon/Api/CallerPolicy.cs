using LocalMigrate.Contract;
using LocalMigrate.UpgradeDaemon.Hosting;

namespace LocalMigrate.UpgradeDaemon.Api;

/// <summary>
/// Who may change things. The bus policy lets anyone call (systemd1 does the same); the daemon checks the caller's
/// uid itself (<see cref="CallerCredentials"/>). Reads are open to all; mutating calls need uid 0,
/// a uid in <c>allowedUids</c>, or membership of a group in <c>allowedGroups</c> (primary or supplementary,
/// from /etc/passwd and /etc/group, read at each call so a change applies without restart).
/// </summary>
internal sealed class CallerPolicy(DaemonOptions options, CallerCredentials credentials)
{
    public async Task RequireMutateAsync(BusCall call)
    {
        var uid = await credentials.UidOfAsync(call.Sender).ConfigureAwait(false);
        if (MayMutate(uid))
            return;
        throw new BusErrorException(BusContract.Errors.AccessDenied,
            $"{call.Member} needs root (or a uid/group allowed in localmigrated.json); caller uid is {uid}");
    }

    public bool MayMutate(uint uid)
    {
        if (uid == 0 || options.AllowedUids.Contains(uid))
            return true;
        if (options.AllowedGroups.Count == 0)
            return false;
        var user = UserName(uid);
        foreach (var group in ReadDatabase("/etc/group"))
        {
            // name:password:gid:member,member
            if (group.Length < 4 || !options.AllowedGroups.Contains(group[0]))
                continue;
            if (user is not null && group[3].Split(',').Contains(user))
                return true;
            if (PrimaryGroup(uid) is { } gid && group[2] == gid)
                return true;
        }
        return false;
    }

    private static string? UserName(uint uid) =>
        ReadDatabase("/etc/passwd").FirstOrDefault(f => f.Length > 3 && f[2] == uid.ToString(System.Globalization.CultureInfo.InvariantCulture))?[0];

    private static string? PrimaryGroup(uint uid) =>
        ReadDatabase("/etc/passwd").FirstOrDefault(f => f.Length > 3 && f[2] == uid.ToString(System.Globalization.CultureInfo.InvariantCulture))?[3];

    private static IEnumerable<string[]> ReadDatabase(string path) =>
        File.Exists(path) ? File.ReadLines(path).Where(l => l.Length > 0 && l[0] != '#').Select(l => l.Split(':')) : [];
}
