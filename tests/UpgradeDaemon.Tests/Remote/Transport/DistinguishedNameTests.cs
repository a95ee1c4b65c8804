using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;
using LocalMigrate.UpgradeDaemon.Remote.Transport;
using LocalMigrate.UpgradeDaemon.Tests.Support;

namespace LocalMigrate.UpgradeDaemon.Tests.Remote.Transport;

public sealed class DistinguishedNameTests
{
    [Theory]
    [InlineData("CN=hostA,O=LocalMigrate", "CN=hostA, O=LocalMigrate")]
    [InlineData("CN=hostA,O=LocalMigrate", "cn=hostA;o=LocalMigrate")]
    [InlineData("CN=hostA,O=LocalMigrate", "  CN = hostA ,  O = \"LocalMigrate\"  ")]
    [InlineData("CN=hostA,O=LocalMigrate", "CN=HOSTA,O=localmigrate")]
    [InlineData("CN=x,ST=Bavaria,EMAIL=a@b", "CN=x, S=Bavaria, E=a@b")]
    [InlineData("CN=x,O=Example\\, Inc.", "CN=x, O=\"Example, Inc.\"")]
    [InlineData("CN=café", "CN=caf\\C3\\A9")]
    [InlineData("CN=x,O=2.5.4.10-as-oid", "CN=x,OID.2.5.4.10=2.5.4.10-as-oid")]
    public void Equals_TwoSpellingsOfOneName_Equal(string a, string b)
    {
        Assert.Equal(DistinguishedName.Parse(a), DistinguishedName.Parse(b));
        Assert.Equal(DistinguishedName.Parse(a).GetHashCode(), DistinguishedName.Parse(b).GetHashCode());
    }

    [Theory]
    [InlineData("CN=hostA,O=LocalMigrate", "O=LocalMigrate,CN=hostA")]
    [InlineData("CN=hostA,O=LocalMigrate", "CN=hostA,O=LocalMigrate2")]
    [InlineData("CN=hostA,O=LocalMigrate", "CN=hostA,OU=LocalMigrate")]
    [InlineData("CN=hostA,O=LocalMigrate", "CN=hostA")]
    [InlineData("CN=hostA+UID=1,O=LocalMigrate", "CN=hostA,UID=1,O=LocalMigrate")]
    public void Equals_DifferentNames_NotEqual(string a, string b) =>
        Assert.NotEqual(DistinguishedName.Parse(a), DistinguishedName.Parse(b));

    [Theory]
    [InlineData("CN=hostA,O=LocalMigrate", "O=LocalMigrate,CN=hostA")]
    [InlineData("CN=hostA, O=LocalMigrate", "O=LocalMigrate,CN=hostA")]
    [InlineData("CN=hostA, OU=Ops, O=\"Example, Inc.\", L=München, S=Bayern, C=DE", "C=DE,ST=Bayern,L=München,O=Example\\, Inc.,OU=Ops,CN=hostA")]
    [InlineData("CN=a\\+b, O=x\\;y", "O=x\\;y,CN=a\\+b")]
    [InlineData("CN=\\#1 ,O=x", "O=x,CN=\\#1")]
    [InlineData("E=ops@example.org, CN=hostA", "CN=hostA,EMAIL=ops@example.org")]
    [InlineData("CN=hostA+UID=7,DC=example,DC=org", "DC=org,DC=example,CN=hostA+UID=7")]
    public void ToGnuTls_DotNetOrRfc4514Form_CertificateOrderWithRfc4514Escapes(string dn, string gnutls) =>
        Assert.Equal(gnutls, DistinguishedName.ToGnuTls(dn));

    [Theory]
    [InlineData("", "empty")]
    [InlineData("   ", "empty")]
    [InlineData("CN", "has no '='")]
    [InlineData("CN=a,", "ends with a separator")]
    [InlineData("CN=\"a", "not closed")]
    [InlineData("C N=a", "not an attribute type")]
    [InlineData("CN=a\\", "lone")]
    [InlineData("CN=\"a\"x", "expected ','")]
    public void Parse_Malformed_FormatExceptionNamingTheTextAndTheProblem(string dn, string problem)
    {
        var e = Assert.Throws<FormatException>(() => DistinguishedName.Parse(dn));
        Assert.Contains($"'{dn}'", e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void FromCertificate_OpensslSubjectOThenCn_Rfc4514ReadsCnFirstAndGnuTlsKeepsCertificateOrder()
    {
        using var pki = TestPki.Create();
        using var certificate = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(pki.HostDirectory, "client-cert.pem")));

        var subject = DistinguishedName.FromCertificate(certificate);

        Assert.Equal(TestPki.AllowedClientDn, subject.ToString());
        Assert.Equal(TestPki.AllowedClientGnuTlsDn, subject.ToGnuTlsString());
        // .NET's own rendering parses back to the same name.
        Assert.Equal(subject, DistinguishedName.Parse(certificate.Subject));
    }

    [Fact]
    public void FromX500_MultiValuedRdnAndQuotedComma_ReadFromTheEncoding()
    {
        // .NET's string parser knows no '+': write the DER (certificate order, O first) by hand.
        var der = new AsnWriter(AsnEncodingRules.DER);
        using (der.PushSequence())
        {
            using (der.PushSetOf())
                WriteAttribute(der, "2.5.4.10", "Example, Inc.");
            using (der.PushSetOf())
            {
                WriteAttribute(der, "2.5.4.3", "hostA");
                WriteAttribute(der, "0.9.2342.19200300.100.1.1", "7");
            }
        }
        var name = new X500DistinguishedName(der.Encode());

        var parsed = DistinguishedName.FromX500(name);

        Assert.Equal("CN=hostA+UID=7,O=Example\\, Inc.", parsed.ToString());
        Assert.Equal("O=Example\\, Inc.,CN=hostA+UID=7", parsed.ToGnuTlsString());
    }

    private static void WriteAttribute(AsnWriter der, string oid, string value)
    {
        using (der.PushSequence())
        {
            der.WriteObjectIdentifier(oid);
            der.WriteCharacterString(UniversalTagNumber.UTF8String, value);
        }
    }
}
