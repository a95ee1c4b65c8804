return LocalMigrate.UpgradeDaemon.Hosting.DaemonEntry.Run(args);
