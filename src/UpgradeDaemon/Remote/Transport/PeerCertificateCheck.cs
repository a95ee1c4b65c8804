using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace LocalMigrate.UpgradeDaemon.Remote.Transport;

/// <summary>Why SslStream's validation (run with <see cref="PeerPki.ChainPolicy"/>) refused a peer's certificate, in words.</summary>
internal static class PeerCertificateCheck
{
    public static string Describe(SslPolicyErrors errors, X509Certificate? certificate, X509Chain? chain, string? expectedName = null)
    {
        var reasons = new List<string>();
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
            reasons.Add("no certificate presented");
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
            reasons.Add($"the certificate does not name {expectedName} ({SubjectAlternativeNames(certificate)})");
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors))
        {
            var statuses = chain?.ChainStatus.Select(s => $"{s.Status}: {s.StatusInformation.Trim()}").Distinct().ToList() ?? [];
            reasons.Add(statuses.Count == 0 ? "certificate chain invalid" : "chain: " + string.Join("; ", statuses));
        }
        var subject = certificate is null ? "" : $"certificate '{certificate.Subject}' issued by '{certificate.Issuer}': ";
        return subject + string.Join(", ", reasons);
    }

    private static string SubjectAlternativeNames(X509Certificate? certificate)
    {
        if (certificate is null)
            return "no certificate";
        using var full = new X509Certificate2(certificate);
        var san = full.Extensions.OfType<X509SubjectAlternativeNameExtension>().FirstOrDefault();
        if (san is null)
            return "it has no subjectAltName";
        var names = san.EnumerateDnsNames().Concat(san.EnumerateIPAddresses().Select(a => a.ToString())).ToList();
        return "it names " + (names.Count == 0 ? "nothing" : string.Join(", ", names));
    }
}
