namespace LocalMigrate.UpgradeDaemon.Hosting;

/// <summary>The daemon's command line (DESIGN.md section 2, contract).</summary>
public sealed record DaemonArguments(string Bus, string? StateDirectory, string? RuntimeDirectory, string ConfigFile, bool ConfigFileGiven);
