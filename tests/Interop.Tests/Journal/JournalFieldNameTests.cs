using LocalMigrate.Interop.Journal;

namespace LocalMigrate.Interop.Tests.Journal;

public sealed class JournalFieldNameTests
{
    [Theory]
    [InlineData("DomainName", "DOMAIN_NAME")]
    [InlineData("JobId", "JOB_ID")]
    [InlineData("Phase", "PHASE")]
    [InlineData("DomainUuid", "DOMAIN_UUID")]
    [InlineData("SourceContext", "SOURCE_CONTEXT")]
    [InlineData("HTTPServer", "HTTP_SERVER")]
    [InlineData("qemu.pid", "QEMU_PID")]
    [InlineData("_Private", "PRIVATE")]
    [InlineData("2fa", "FA")]
    [InlineData("Vcpu2Count", "VCPU2_COUNT")]
    public void From_PropertyName_MakesJournalFieldName(string property, string field)
    {
        Assert.Equal(field, JournalFieldName.From(property));
    }

    [Theory]
    [InlineData("")]
    [InlineData("_")]
    [InlineData("123")]
    public void From_NoLetters_ReturnsNull(string property)
    {
        Assert.Null(JournalFieldName.From(property));
    }

    [Fact]
    public void From_VeryLongName_TruncatedTo64()
    {
        Assert.Equal(64, JournalFieldName.From(new string('a', 100))!.Length);
    }
}
