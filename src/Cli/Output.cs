using System.Text.Json;
using Spectre.Console;

namespace LocalMigrate.Cli;

/// <summary>Where output goes: one JSON document, a table on a terminal, or plain tab-separated lines.</summary>
internal static class Output
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static bool IsTerminal => !Console.IsOutputRedirected;

    public static void WriteJson(object document) => Console.WriteLine(JsonSerializer.Serialize(document, Json));

    public static void WriteTable(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        if (IsTerminal)
        {
            var table = new Table().Border(TableBorder.Rounded);
            foreach (var h in headers)
                table.AddColumn(new TableColumn(Markup.Escape(h)));
            foreach (var row in rows)
                table.AddRow(row.Select(c => new Text(c)).ToArray());
            AnsiConsole.Write(table);
            return;
        }
        Console.WriteLine(string.Join('\t', headers));
        foreach (var row in rows)
            Console.WriteLine(string.Join('\t', row));
    }

    public static string Bytes(ulong bytes) => bytes switch
    {
        >= 1UL << 30 => $"{bytes / (double)(1UL << 30):0.0} GiB",
        >= 1UL << 20 => $"{bytes / (double)(1UL << 20):0.0} MiB",
        >= 1UL << 10 => $"{bytes / 1024.0:0.0} KiB",
        _ => $"{bytes} B",
    };
}
