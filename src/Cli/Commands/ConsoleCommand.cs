using System.CommandLine;
using System.Text;

namespace LocalMigrate.Cli.Commands;

/// <summary>
/// Streams a domain's serial console. QEMU itself appends the guest's output to the domain's console log from
/// whichever instance runs the guest, so following that one file follows the VM across migrations.
/// </summary>
internal static class ConsoleCommand
{
    public static Command Create(Option<string> bus)
    {
        var name = new Argument<string>("NAME");
        var lines = new Option<int>("--lines") { Description = "lines of history to show first", DefaultValueFactory = _ => 20 };
        var noFollow = new Option<bool>("--no-follow") { Description = "print the history and exit" };
        var command = new Command("console", "stream the serial console; it follows the VM across migrations (read-only; Ctrl-C ends)") { name, lines, noFollow };
        command.SetAction(parsed => CliEntry.Execute(parsed, bus, async client =>
        {
            var domain = await client.DomainAsync(parsed.GetValue(name)!).ConfigureAwait(false);
            FileStream stream;
            try
            {
                stream = new FileStream(domain.ConsoleLog, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliException(e is UnauthorizedAccessException ? ExitCodes.AccessDenied : ExitCodes.Failed,
                    $"cannot read the console log {domain.ConsoleLog}: {e.Message}");
            }
            await using (stream)
            {
                SeekToLastLines(stream, parsed.GetValue(lines));
                using var stdout = Console.OpenStandardOutput();
                var buffer = new byte[64 * 1024];
                using var interrupt = new CancellationTokenSource();
                Console.CancelKeyPress += (_, e) =>
                {
                    e.Cancel = true;
                    interrupt.Cancel();
                };
                while (!interrupt.IsCancellationRequested)
                {
                    var n = await stream.ReadAsync(buffer).ConfigureAwait(false);
                    if (n > 0)
                    {
                        await stdout.WriteAsync(buffer.AsMemory(0, n)).ConfigureAwait(false);
                        await stdout.FlushAsync().ConfigureAwait(false);
                        continue;
                    }
                    if (parsed.GetValue(noFollow))
                        break;
                    await Task.Delay(50).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
                }
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static void SeekToLastLines(FileStream stream, int count)
    {
        var length = stream.Length;
        var start = Math.Max(0, length - 256L * Math.Max(count, 1));
        stream.Position = start;
        var tail = new byte[length - start];
        stream.ReadExactly(tail);
        var text = Encoding.UTF8.GetString(tail);
        var newlines = 0;
        var cut = text.Length;
        for (var i = text.Length - 1; i >= 0 && newlines <= count; i--)
        {
            if (text[i] == '\n' && ++newlines > count)
                cut = i + 1;
        }
        stream.Position = newlines > count ? start + Encoding.UTF8.GetByteCount(text[..cut]) : start;
    }
}
