namespace LocalMigrate.UpgradeDaemon.Api;

/// <summary>Serves one method: returns the reply's values in the order of the method's out signature.</summary>
internal delegate Task<object?[]> MethodHandler(BusCall call);
