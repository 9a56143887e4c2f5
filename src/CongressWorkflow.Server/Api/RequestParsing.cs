using System.Globalization;
using CongressWorkflow.Domain.Common;

namespace CongressWorkflow.Server.Api;

/// <summary>Window of dates as it arrives over HTTP.</summary>
public sealed record WindowDto(DateOnly Start, DateOnly End)
{
    public static WindowDto From(DateWindow window) => new(window.Start, window.End);
}

/// <summary>Turns request values into domain values, or a 400 problem with a stable code.</summary>
public static class RequestParsing
{
    public const string InvalidDocumentReference = "invalid-document-reference";
    public const string InvalidWindow = "invalid-window";
    public const string MissingField = "missing-field";

    public static DocumentReference Document(string? text, string field) =>
        DocumentReference.TryParse(text, out var reference, out var error)
            ? reference
            : throw new RequestRejectedException(StatusCodes.Status400BadRequest, InvalidDocumentReference, $"{field}: {error}");

    public static DocumentReference? OptionalDocument(string? text, string field) =>
        string.IsNullOrWhiteSpace(text) ? null : Document(text, field);

    public static DateWindow Window(WindowDto? window, string field) => window is null
        ? throw Missing(field)
        : window.End < window.Start
            ? throw new RequestRejectedException(StatusCodes.Status400BadRequest, InvalidWindow,
                $"{field} ends ({window.End:yyyy-MM-dd}) before it starts ({window.Start:yyyy-MM-dd})")
            : new DateWindow(window.Start, window.End);

    public static DateWindow? OptionalWindow(WindowDto? window, string field) => window is null ? null : Window(window, field);

    /// <summary>A field the request cannot do without that it left out.</summary>
    public static RequestRejectedException Missing(string field) => new(StatusCodes.Status400BadRequest, MissingField, $"{field} is required");

    public static T Required<T>(T? value, string field)
        where T : struct =>
        value ?? throw Missing(field);

    public static string Required(string? value, string field) =>
        string.IsNullOrWhiteSpace(value)
            ? throw Missing(field)
            : value;

    /// <summary>Who acts (from the verified token, never from headers the client sets) and when.</summary>
    public static CommandContext Actor(HttpContext http, TimeProvider time)
    {
        var caller = Caller.Of(http);
        return new CommandContext(caller.UserId, caller.Role, caller.OrganizationId, time.GetUtcNow());
    }

    /// <summary>
    /// A day: 2020-05-15, or today (UTC) when absent; anything else, or a day outside 1900–2199 (where the reports' date
    /// arithmetic would run off the calendar), is a 400 invalid-query.
    /// </summary>
    public static DateOnly Day(string? text, TimeProvider time) =>
        string.IsNullOrWhiteSpace(text)
            ? DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime)
            : DateOnly.TryParseExact(text, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var day)
                ? day.Year is >= 1900 and <= 2199
                    ? day
                    : throw new RequestRejectedException(StatusCodes.Status400BadRequest, RequestErrorCodes.InvalidQuery,
                        $"'{text}' is outside the years 1900 to 2199")
                : throw new RequestRejectedException(StatusCodes.Status400BadRequest, RequestErrorCodes.InvalidQuery, $"'{text}' is not a day: use the form 2020-05-15");

    /// <summary>A range of days, each end optional (absent: open); a from after the to is a 400 invalid-query, not an empty answer.</summary>
    public static (DateOnly? From, DateOnly? To) Days(string? from, string? to, TimeProvider time)
    {
        DateOnly? OptionalDay(string? text) => string.IsNullOrWhiteSpace(text) ? null : Day(text, time);
        var (first, last) = (OptionalDay(from), OptionalDay(to));
        return first > last
            ? throw new RequestRejectedException(StatusCodes.Status400BadRequest, RequestErrorCodes.InvalidQuery, "from must not be after to")
            : (first, last);
    }

    /// <summary>The expected stream version from If-Match ("3" or 3), if any.</summary>
    public static long? ExpectedVersion(HttpContext http)
    {
        var header = http.Request.Headers.IfMatch.ToString().Trim().Trim('"');
        if (header.Length == 0)
        {
            return null;
        }

        return long.TryParse(header, System.Globalization.CultureInfo.InvariantCulture, out var version) && version >= 0
            ? version
            : throw new RequestRejectedException(StatusCodes.Status400BadRequest, "invalid-if-match",
                $"If-Match must be the stream version you read (a number, as given in the ETag), not '{header}'");
    }

    /// <summary>A moment given as an ISO 8601 date (end of that day, UTC) or date-time with offset.</summary>
    public static DateTimeOffset? Moment(string? text, string name)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            return new DateTimeOffset(date.ToDateTime(new TimeOnly(23, 59, 59, 999, 999)), TimeSpan.Zero);
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var moment)
            ? moment
            : throw new RequestRejectedException(StatusCodes.Status400BadRequest, RequestErrorCodes.InvalidQuery,
                $"{name} must be a date (2020-05-15) or a date-time with offset (2020-05-15T17:00:00+07:00), not '{text}'");
    }
}
