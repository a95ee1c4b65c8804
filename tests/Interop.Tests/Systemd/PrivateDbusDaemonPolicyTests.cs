using LocalMigrate.Interop.Systemd;

namespace LocalMigrate.Interop.Tests.Systemd;

public sealed class PrivateDbusDaemonPolicyTests
{
    [Fact]
    public async Task WithPolicy_ServicePolicyFile_OnlyGrantedNamesMayBeOwned()
    {
        var policy = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(policy, """
                <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
                  "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
                <busconfig>
                  <policy user="root">
                    <allow own="org.localmigrate1"/>
                  </policy>
                  <policy context="default">
                    <allow send_destination="org.localmigrate1"/>
                  </policy>
                </busconfig>
                """);
            using var daemon = PrivateDbusDaemon.WithPolicy(policy);
            await using var connection = await BusConnection.OpenAsync(BusAddress.FromString(daemon.Address));

            await connection.RequestNameAsync("org.localmigrate1");
            var denied = await Assert.ThrowsAsync<BusErrorException>(() => connection.RequestNameAsync("org.localmigrate1.Other"));

            Assert.Equal(BusErrorNames.AccessDenied, denied.ErrorName);
        }
        finally
        {
            File.Delete(policy);
        }
    }
}
