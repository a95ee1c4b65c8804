using LocalMigrate.Interop.Posix;

namespace LocalMigrate.Interop.Tests.Posix;

public sealed class NativeHeapTests
{
    [Fact]
    public void LimitArenas_OnGlibcWithoutTheEnvironmentVariable_IsApplied()
    {
        Assert.Null(Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX"));
        Assert.True(NativeHeap.LimitArenas(2));
    }
}
