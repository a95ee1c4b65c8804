using LocalMigrate.Interop.Qmp;
using LocalMigrate.Interop.Qmp.Monitor;

namespace LocalMigrate.UpgradeDaemon.Migration;

/// <summary>Steps both sides take the same way (libvirt's qemuMigrationAny*).</summary>
internal static class MigrationAny
{
    /// <summary><see cref="ApplyTuningAsync"/>, unless the QEMU already holds exactly this tuning (<paramref name="held"/>).</summary>
    public static async Task<MigrationSideSettings> ApplyTuningUnlessHeldAsync(QemuMonitor monitor, MigrationSideTuning tuning, AppliedTuning? held,
        MigrationPhase phase, string side, CancellationToken cancellationToken) =>
        held is not null && held.Tuning.Matches(tuning)
            ? held.Settings
            : await ApplyTuningAsync(monitor, tuning, phase, side, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Sets the side's capabilities and parameters, then reads back what QEMU holds: a setting QEMU silently did
    /// not take is an error naming it, and the read-back is what the job shows.
    /// </summary>
    /// <exception cref="MigrationException">QEMU holds another value than the one set.</exception>
    public static async Task<MigrationSideSettings> ApplyTuningAsync(QemuMonitor monitor, MigrationSideTuning tuning, MigrationPhase phase,
        string side, CancellationToken cancellationToken)
    {
        await monitor.MigrateSetCapabilitiesAsync(tuning.Capabilities, cancellationToken: cancellationToken).ConfigureAwait(false);
        await monitor.MigrateSetParametersAsync(tuning.Parameters, cancellationToken: cancellationToken).ConfigureAwait(false);
        var capabilities = await monitor.QueryMigrateCapabilitiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var parameters = (await monitor.QueryMigrateParametersAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).ToQapiMembers();

        var problems = new List<string>();
        foreach (var wanted in tuning.Capabilities)
        {
            var held = capabilities.FirstOrDefault(c => c.Capability == wanted.Capability);
            if (held is null || held.State != wanted.State)
                problems.Add($"capability {wanted.Capability.ToQapiString()} is {(held is null ? "absent" : held.State ? "on" : "off")}, not {(wanted.State ? "on" : "off")}");
        }
        foreach (var (name, value) in tuning.Parameters.ToQapiMembers())
        {
            if (!parameters.TryGetValue(name, out var held) || held != value)
                problems.Add($"parameter {name} is {held ?? "absent"}, not {value}");
        }
        if (problems.Count > 0)
            throw new MigrationException(phase, $"{side} QEMU did not take the migration settings: {string.Join("; ", problems)}");
        return new MigrationSideSettings(
            capabilities.Where(c => c.State && c.Capability != MigrationCapability.Unknown).Select(c => c.Capability.ToQapiString()).ToList(),
            parameters);
    }
}
