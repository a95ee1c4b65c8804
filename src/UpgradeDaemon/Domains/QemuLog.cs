namespace LocalMigrate.UpgradeDaemon.Domains;

/// <summary>QEMU's stderr, kept per instance: its last lines are the best error message we can give.</summary>
public static class QemuLog
{
    public static string Tail(string path, int maxLines = 5)
    {
        try
        {
            var lines = File.ReadAllLines(path).Where(l => l.Length > 0).TakeLast(maxLines);
            var text = string.Join(" | ", lines);
            return text.Length == 0 ? "(qemu printed nothing)" : $"qemu said: {text}";
        }
        catch (IOException)
        {
            return "(no qemu log)";
        }
    }
}
