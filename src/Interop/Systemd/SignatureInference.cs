using System.Collections;
using System.Runtime.CompilerServices;

namespace LocalMigrate.Interop.Systemd;

/// <summary>Picks a signature for a value sent inside a variant when the caller gave no <see cref="BusVariant"/>.</summary>
internal static class SignatureInference
{
    public static string For(object value)
    {
        ArgumentNullException.ThrowIfNull(value);
        switch (value)
        {
            case BusVariant:
                return "v";
            case ITuple tuple:
                var parts = new string[tuple.Length];
                for (var i = 0; i < tuple.Length; i++)
                {
                    parts[i] = For(tuple[i] ?? throw new ArgumentException("a struct field is null; D-Bus has no null"));
                }

                return "(" + string.Concat(parts) + ")";
        }

        return ForType(value.GetType())
            ?? throw new ArgumentException($"cannot infer a D-Bus signature for {value.GetType()}; wrap it in a BusVariant");
    }

    private static string? ForType(Type type)
    {
        if (type.IsEnum)
        {
            return ForType(Enum.GetUnderlyingType(type));
        }

        var basic = Type.GetTypeCode(type) switch
        {
            TypeCode.String => "s",
            TypeCode.Boolean => "b",
            TypeCode.Byte => "y",
            TypeCode.Int16 => "n",
            TypeCode.UInt16 => "q",
            TypeCode.Int32 => "i",
            TypeCode.UInt32 => "u",
            TypeCode.Int64 => "x",
            TypeCode.UInt64 => "t",
            TypeCode.Double or TypeCode.Single => "d",
            _ => null,
        };
        if (basic is not null)
        {
            return basic;
        }

        if (type == typeof(BusObjectPath))
        {
            return "o";
        }

        if (type == typeof(object) || type == typeof(BusVariant))
        {
            return "v";
        }

        var dictionary = FindGeneric(type, typeof(IReadOnlyDictionary<,>)) ?? FindGeneric(type, typeof(IDictionary<,>));
        if (dictionary is not null)
        {
            var args = dictionary.GetGenericArguments();
            var key = ForType(args[0]);
            var value = ForType(args[1]);
            return key is { Length: 1 } && BusSignatureParser.IsBasic(key[0]) && value is not null ? $"a{{{key}{value}}}" : null;
        }

        if (type.IsArray)
        {
            var element = ForType(type.GetElementType()!);
            return element is null ? null : "a" + element;
        }

        var enumerable = FindGeneric(type, typeof(IEnumerable<>));
        if (enumerable is not null)
        {
            var element = ForType(enumerable.GetGenericArguments()[0]);
            return element is null ? null : "a" + element;
        }

        return typeof(IEnumerable).IsAssignableFrom(type) ? "av" : null;
    }

    private static Type? FindGeneric(Type type, Type definition)
    {
        if (type.IsGenericType && type.GetGenericTypeDefinition() == definition)
        {
            return type;
        }

        return type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == definition);
    }
}
