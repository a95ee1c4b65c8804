using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace LocalMigrate.Cli;

/// <summary>Where output goes: one JSON document, a table on a terminal, or plain tab-separated lines.</summary>
internal static class Output
{
    public static bool IsTerminal => !Console.IsOutputRedirected;

    /// <summary>
    /// Documents are built as <see cref="JsonNode"/>s, not serialized from objects by reflection: reflection-based
    /// serialization cost ~20 ms of CPU per run, spent right when a migrated guest needs the CPU on a small host.
    /// The relaxed encoder leaves '+' and non-ASCII as they are ("1:7.2+dfsg"): this is a terminal, not HTML.
    /// </summary>
    public static void WriteJson(JsonNode document)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var writer = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            document.WriteTo(writer);
        stdout.Write("\n"u8);
    }

    public static JsonArray Array<T>(IEnumerable<T> items, Func<T, JsonNode?> select) => new(items.Select(select).ToArray());

    public static JsonArray Strings(IEnumerable<string> items) => Array(items, s => JsonValue.Create(s));

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
