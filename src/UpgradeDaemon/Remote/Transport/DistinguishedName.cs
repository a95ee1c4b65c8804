using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace LocalMigrate.UpgradeDaemon.Remote.Transport;

/// <summary>
/// A subject DN as a list of RDNs, so that two spellings of one name compare equal (<c>CN=a,O=b</c>,
/// <c>CN=a, O=b</c>, <c>cn=a;o=b</c>, <c>CN=a,O="b"</c>), and so it can be printed the way each consumer wants it:
/// RFC 4514 (most specific RDN first, .NET's and the configuration's form) or GnuTLS's (the certificate's own RDN
/// order, the form QEMU's <c>authz-*</c> objects compare with, e.g. <c>O=LocalMigrate,CN=hostA</c>).
/// <para>
/// Values compare case-insensitively, as X.520's caseIgnoreMatch does for CN, O, OU, L, ST and C; the RDN order
/// matters, as it does in X.509.
/// </para>
/// </summary>
internal sealed class DistinguishedName : IEquatable<DistinguishedName>
{
    // Short names GnuTLS and OpenSSL print; .NET says S for ST and E for the e-mail address.
    private static readonly Dictionary<string, string> TypeByOid = new(StringComparer.Ordinal)
    {
        ["2.5.4.3"] = "CN", ["2.5.4.6"] = "C", ["2.5.4.7"] = "L", ["2.5.4.8"] = "ST", ["2.5.4.9"] = "STREET",
        ["2.5.4.10"] = "O", ["2.5.4.11"] = "OU", ["2.5.4.12"] = "TITLE", ["2.5.4.5"] = "SERIALNUMBER",
        ["0.9.2342.19200300.100.1.25"] = "DC", ["0.9.2342.19200300.100.1.1"] = "UID", ["1.2.840.113549.1.9.1"] = "EMAIL",
    };

    private static readonly Dictionary<string, string> TypeAliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["S"] = "ST", ["E"] = "EMAIL", ["EMAILADDRESS"] = "EMAIL", ["COMMONNAME"] = "CN", ["ORGANIZATIONNAME"] = "O",
        ["ORGANIZATIONALUNITNAME"] = "OU", ["COUNTRYNAME"] = "C", ["LOCALITYNAME"] = "L", ["STATEORPROVINCENAME"] = "ST",
    };

    private DistinguishedName(IReadOnlyList<IReadOnlyList<DnAttribute>> rdns) => Rdns = rdns;

    /// <summary>RDNs most specific first (RFC 4514 order); each RDN has one attribute unless it is multi-valued (<c>+</c>).</summary>
    public IReadOnlyList<IReadOnlyList<DnAttribute>> Rdns { get; }

    /// <summary>Parses RFC 4514 text or .NET's <see cref="X500DistinguishedName.Name"/> (<c>", "</c> separators, quoted values).</summary>
    /// <exception cref="FormatException">Names the text and what is wrong with it.</exception>
    public static DistinguishedName Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new Parser(text).Run();
    }

    public static bool TryParse(string text, out DistinguishedName? name, out string? error)
    {
        try
        {
            name = Parse(text);
            error = null;
            return true;
        }
        catch (FormatException e)
        {
            name = null;
            error = e.Message;
            return false;
        }
    }

    /// <summary>A certificate's subject, read from its encoded RDNs (no string round trip, no ambiguity).</summary>
    public static DistinguishedName FromCertificate(X509Certificate2 certificate) => FromX500(certificate.SubjectName);

    public static DistinguishedName FromX500(X500DistinguishedName name)
    {
        // EnumerateRelativeDistinguishedNames yields RFC 4514 order unless told otherwise.
        var rdns = new List<IReadOnlyList<DnAttribute>>();
        foreach (X500RelativeDistinguishedName rdn in name.EnumerateRelativeDistinguishedNames())
            rdns.Add(ReadRdn(rdn));
        return new DistinguishedName(rdns);
    }

    /// <summary>RFC 4514: <c>CN=hostA,O=LocalMigrate</c>.</summary>
    public override string ToString() => Format(Rdns);

    /// <summary>GnuTLS's <c>gnutls_x509_crt_get_dn</c> form, which QEMU hands to its authz objects: <c>O=LocalMigrate,CN=hostA</c>.</summary>
    public string ToGnuTlsString() => Format(Rdns.Reverse());

    /// <summary>Converts configuration text (RFC 4514 or .NET form) to the identity QEMU's <c>tls-authz</c> sees.</summary>
    public static string ToGnuTls(string dn) => Parse(dn).ToGnuTlsString();

    public bool Equals(DistinguishedName? other) =>
        other is not null
        && Rdns.Count == other.Rdns.Count
        && Rdns.Zip(other.Rdns).All(p => p.First.Count == p.Second.Count
            && p.First.Zip(p.Second).All(a => string.Equals(a.First.Type, a.Second.Type, StringComparison.Ordinal)
                && string.Equals(a.First.Value, a.Second.Value, StringComparison.OrdinalIgnoreCase)));

    public override bool Equals(object? obj) => Equals(obj as DistinguishedName);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var rdn in Rdns)
        {
            foreach (var a in rdn)
            {
                hash.Add(a.Type, StringComparer.Ordinal);
                hash.Add(a.Value, StringComparer.OrdinalIgnoreCase);
            }
        }
        return hash.ToHashCode();
    }

    private static string Format(IEnumerable<IReadOnlyList<DnAttribute>> rdns) =>
        string.Join(',', rdns.Select(rdn => string.Join('+', rdn.Select(a => $"{a.Type}={Escape(a.Value)}"))));

    private static string NormalizeType(string type)
    {
        var trimmed = type.Trim();
        if (TypeByOid.TryGetValue(trimmed.StartsWith("OID.", StringComparison.OrdinalIgnoreCase) ? trimmed[4..] : trimmed, out var byOid))
            return byOid;
        return TypeAliases.TryGetValue(trimmed, out var alias) ? alias : trimmed.ToUpperInvariant();
    }

    private static List<DnAttribute> ReadRdn(X500RelativeDistinguishedName rdn)
    {
        if (!rdn.HasMultipleElements)
        {
            var oid = rdn.GetSingleElementType().Value!;
            return [new DnAttribute(TypeByOid.GetValueOrDefault(oid, oid), rdn.GetSingleElementValue() ?? "")];
        }
        // A multi-valued RDN: SET OF AttributeTypeAndValue, read from its encoding.
        var attributes = new List<DnAttribute>();
        var set = new AsnReader(rdn.RawData, AsnEncodingRules.DER).ReadSetOf();
        while (set.HasData)
        {
            var pair = set.ReadSequence();
            var oid = pair.ReadObjectIdentifier();
            var value = pair.PeekTag().TagValue switch
            {
                (int)UniversalTagNumber.UTF8String => pair.ReadCharacterString(UniversalTagNumber.UTF8String),
                (int)UniversalTagNumber.PrintableString => pair.ReadCharacterString(UniversalTagNumber.PrintableString),
                (int)UniversalTagNumber.IA5String => pair.ReadCharacterString(UniversalTagNumber.IA5String),
                _ => "#" + Convert.ToHexString(pair.ReadEncodedValue().Span),
            };
            attributes.Add(new DnAttribute(TypeByOid.GetValueOrDefault(oid, oid), value));
        }
        return attributes;
    }

    // RFC 4514 section 2.4: escape the specials anywhere, a leading '#' or space and a trailing space.
    private static string Escape(string value)
    {
        var s = new StringBuilder(value.Length);
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            bool special = c is ',' or '+' or '"' or '\\' or '<' or '>' or ';'
                || (i == 0 && c is '#' or ' ')
                || (i == value.Length - 1 && c == ' ');
            if (special)
                s.Append('\\');
            if (c == '\0')
                s.Append("\\00");
            else
                s.Append(c);
        }
        return s.ToString();
    }

    private sealed class Parser(string text)
    {
        private int _at;

        public DistinguishedName Run()
        {
            var rdns = new List<IReadOnlyList<DnAttribute>>();
            var rdn = new List<DnAttribute>();
            SkipSpaces();
            if (_at == text.Length)
                throw Error("it is empty");
            while (true)
            {
                rdn.Add(ReadAttribute());
                SkipSpaces();
                if (_at == text.Length)
                    break;
                char separator = text[_at++];
                if (separator == '+')
                    continue;
                if (separator is not (',' or ';'))
                    throw Error($"expected ',' after the value at offset {_at - 1}");
                rdns.Add(rdn);
                rdn = [];
                SkipSpaces();
                if (_at == text.Length)
                    throw Error("it ends with a separator");
            }
            rdns.Add(rdn);
            return new DistinguishedName(rdns);
        }

        private DnAttribute ReadAttribute()
        {
            int equals = text.IndexOf('=', _at);
            if (equals < 0)
                throw Error($"'{text[_at..]}' has no '='");
            string type = text[_at..equals].Trim();
            if (type.Length == 0 || !type.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-'))
                throw Error($"'{type}' is not an attribute type");
            _at = equals + 1;
            SkipSpaces();
            string value = _at < text.Length && text[_at] == '"' ? ReadQuoted() : ReadPlain();
            return new DnAttribute(NormalizeType(type), value);
        }

        private string ReadQuoted()
        {
            _at++;
            var value = new StringBuilder();
            while (true)
            {
                if (_at == text.Length)
                    throw Error("a quoted value is not closed");
                char c = text[_at++];
                if (c == '"')
                    return value.ToString();
                if (c == '\\')
                    ReadEscape(value);
                else
                    value.Append(c);
            }
        }

        private string ReadPlain()
        {
            var value = new StringBuilder();
            int keep = 0; // length up to the last escaped or non-space character: unescaped trailing spaces go
            while (_at < text.Length && text[_at] is not (',' or ';' or '+'))
            {
                char c = text[_at++];
                if (c == '\\')
                {
                    ReadEscape(value);
                    keep = value.Length;
                }
                else
                {
                    value.Append(c);
                    if (c != ' ')
                        keep = value.Length;
                }
            }
            return value.ToString(0, keep);
        }

        private void ReadEscape(StringBuilder value)
        {
            if (_at == text.Length)
                throw Error("it ends with a lone '\\'");
            if (_at + 1 < text.Length && Uri.IsHexDigit(text[_at]) && Uri.IsHexDigit(text[_at + 1]))
            {
                // \XX escapes are UTF-8 bytes: collect a run of them and decode together.
                var bytes = new List<byte>();
                do
                {
                    bytes.Add(Convert.ToByte(text.Substring(_at, 2), 16));
                    _at += 2;
                }
                while (_at + 2 < text.Length && text[_at] == '\\' && Uri.IsHexDigit(text[_at + 1]) && Uri.IsHexDigit(text[_at + 2]) && ++_at > 0);
                value.Append(Encoding.UTF8.GetString(bytes.ToArray()));
                return;
            }
            value.Append(text[_at++]);
        }

        private void SkipSpaces()
        {
            while (_at < text.Length && text[_at] == ' ')
                _at++;
        }

        private FormatException Error(string what) => new($"distinguished name '{text}': {what}");
    }
}
