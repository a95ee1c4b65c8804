namespace LocalMigrate.UpgradeDaemon.Tests.Support;

/// <summary>
/// An executable that answers QMP like an older QEMU knowing only the given machine types: the stand-in for a
/// QEMU build that cannot build a domain's pinned machine (no such build is packaged for this Debian release).
/// It replaces the peer, not the code under test: the daemon's real probe and Begin validation talk to it.
/// </summary>
internal static class FakeQemu
{
    public static string WithMachines(string directory, params string[] machines)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "qemu-system-x86_64-old");
        var list = string.Join(", ", machines.Select(m => $"{{\"name\": \"{m}\", \"cpu-max\": 288, \"deprecated\": False}}"));
        File.WriteAllText(path, $$$"""
            #!/usr/bin/env python3
            import json, os, socket, sys
            arg = sys.argv[sys.argv.index("-qmp") + 1]
            path = arg[len("unix:"):].split(",")[0]
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            server.bind(path)
            server.listen(1)
            conn, _ = server.accept()
            f = conn.makefile("rw")
            def send(obj):
                f.write(json.dumps(obj) + "\r\n"); f.flush()
            def requests():
                # As QEMU parses them: JSON objects back to back, no terminator needed.
                decoder, buffer = json.JSONDecoder(), ""
                while True:
                    data = conn.recv(4096)
                    if not data:
                        return
                    buffer += data.decode()
                    while buffer.strip():
                        try:
                            obj, end = decoder.raw_decode(buffer.lstrip())
                        except json.JSONDecodeError:
                            break
                        buffer = buffer.lstrip()[end:]
                        yield obj
            send({"QMP": {"version": {"qemu": {"major": 6, "minor": 2, "micro": 0}, "package": "fake 6.2"}, "capabilities": []}})
            for req in requests():
                cmd = req.get("execute")
                if cmd == "query-machines":
                    send({"return": [{{{list}}}], "id": req.get("id")})
                elif cmd == "quit":
                    send({"return": {}, "id": req.get("id")}); break
                else:
                    send({"return": {}, "id": req.get("id")})
            """);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }
}
