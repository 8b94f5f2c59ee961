using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace CustomerSegmentation.AwsPackageReplacements.Core;

/// <summary>
/// JSON-protocol timestamps: botocore's default <c>unixTimestamp</c> format, seconds since the epoch with an optional
/// fraction. ISO 8601 strings are read too, because some services answer with them.
/// </summary>
public sealed class EpochSecondsConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType switch
        {
            JsonTokenType.Number => DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(reader.GetDouble() * 1000)),
            JsonTokenType.String => DateTimeOffset.Parse(reader.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
            _ => throw new JsonException($"A timestamp must be a number of epoch seconds or an ISO 8601 string, not {reader.TokenType}."),
        };

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteNumberValue(value.ToUnixTimeMilliseconds() / 1000m);
    }
}
