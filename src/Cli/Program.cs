// The admin command; a thin D-Bus client of localmigrated (filled in by the service issue).
return LocalMigrate.Cli.CliEntry.Run(args);
